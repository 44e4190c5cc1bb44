"""The labelled corpus of patient replies (tests/corpus/): zero unsafe outcomes.

Unsafe is what a pharmacist could not live with: words that report something ending in no item,
doubt or a question read as "no", an opt-out missed or invented, an unambiguous report filed
under none of its topics. The figures per category (safe and ideal shares) are printed by
`python -m tests.corpus.evaluate` and recorded in docs/understanding.md; this test only holds the
line on safety, so that a change to the reader cannot quietly lose a patient's words.
"""

from __future__ import annotations

from collections import Counter

from tests.corpus.evaluate import FILES, evaluate, load


def test_it_has_a_corpus_of_realistic_replies_in_both_languages() -> None:
    replies = load()
    assert len(replies) >= 300
    languages = Counter(r.lang for r in replies)
    assert languages["en"] >= 100 and languages["es"] >= 100
    asked = {r.asked for r in replies}
    assert {"quick", "quick_more", "quick_details", "med_change", "concern"} <= asked
    assert len({r.id for r in replies}) == len(replies)
    assert {f for f in FILES} == {r.file for r in replies}


def test_it_handles_every_reply_of_the_corpus_safely() -> None:
    unsafe = [s for s in evaluate(load()) if not s.safe]
    assert unsafe == [], "\n".join(
        f"{s.reply.id} [{s.reply.asked}] {s.reply.text!r}: expected {s.reply.expect},"
        f" got {s.outcome} ({s.why})"
        for s in unsafe
    )
