"""Play every labelled reply of the corpus through the real dialog and score the outcome.

    python -m tests.corpus.evaluate            # figures per category, both files
    python -m tests.corpus.evaluate --unsafe   # also list every unsafe reply

Each reply is answered at the question its `asked` column names (a fresh state at that node,
in the reply's language) with one `dialogs.step`, and the step is reduced to an outcome of the
same vocabulary as the labels (README.md in this folder). An outcome is

- **ideal** when it is the label;
- **unsafe** when words that report something end in no item, when doubt or a question is read
  as a plain no, when an opt-out is missed or invented, or when an unambiguous report
  (`clear=y`) is filed under none of its topics;
- **safe** otherwise (for instance a report asked again once: the engine keeps the words of a
  reply it asked again about, see `dialogs.engine._not_understood`).

The runner works with the first version of the dialog too (no quick form: its questions are
answered at the nearest old one), so the figures before and after a change come from one script.
"""

from __future__ import annotations

import argparse
import csv
import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import dialogs
import dialogs.engine

HERE = Path(__file__).parent
FILES = ("dev.tsv", "heldout.tsv")
REPORTED = ("med_change", "adherence", "prn_need", "health_change", "concern")
# The first version had no quick form: its nearest questions.
_OLD_NODES = {
    "quick": "med_change",
    "quick_more": "concern",
    "quick_details": "med_change_details",
    "quick_more_details": "concern_details",
}


@dataclass(frozen=True)
class Reply:
    id: str
    lang: str
    asked: str
    text: str
    expect: str
    category: str
    clear: bool
    file: str


@dataclass(frozen=True)
class Scored:
    reply: Reply
    outcome: str
    ideal: bool
    safe: bool
    why: str = ""


def load(names: Iterable[str] = FILES) -> list[Reply]:
    replies = []
    for name in names:
        with (HERE / name).open(encoding="utf-8", newline="") as file:
            for row in csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE):
                replies.append(
                    Reply(
                        row["id"],
                        row["lang"],
                        row["asked"],
                        row["text"],
                        row["expect"],
                        row["category"],
                        row["clear"] == "y",
                        name,
                    )
                )
    return replies


def _dialog_and_node(asked: str) -> tuple[dialogs.Dialog, str]:
    if hasattr(dialogs, "dialog_for"):
        form = "quick" if asked.startswith("quick") else "full"
        return dialogs.dialog_for(form), asked
    return dialogs.CHECKIN, _OLD_NODES.get(asked, asked)


def play(reply: Reply) -> str:
    """Answer `reply.text` at its question; return the outcome in the labels' vocabulary."""
    dialog, node = _dialog_and_node(reply.asked)
    ctx = dialogs.Context(
        "Main Street Pharmacy",
        "(202) 555-0143",
        "Ann",
        datetime.date(2026, 12, 15),
        "sms",
        "es" if reply.lang == "es" else "en",
    )
    fresh = dialogs.step(dialog, None, dialogs.Start(), ctx).state
    state = dialogs.DialogState.from_json({**fresh.to_json(), "node": node})
    result = dialogs.step(dialog, state, dialogs.Reply(text=reply.text), ctx)
    return outcome(state, result)


def outcome(before: dialogs.DialogState, result: dialogs.Step) -> str:
    """Reduce one step to an outcome label."""
    kinds = {f.kind for f in result.findings}
    if result.opted_out:
        return "stop"
    if "callback_request" in kinds:
        return "person"
    reported = [k for k in REPORTED if k in kinds]
    if reported:
        return "find:" + "+".join(reported)
    if kinds:
        return "needs_human"
    after = result.state
    if after.retries > before.retries:
        return "unclear"
    help_said = any(
        isinstance(o, dialogs.Say)
        and "STOP" in o.text
        or isinstance(o, dialogs.Say)
        and "ALTO" in o.text
        for o in result.outputs
    )
    if help_said and after.node == before.node:
        return "help"
    answer = after.data.get("answers", {}).get(before.node)
    if after.node.endswith("_details") and after.node != before.node:
        return "yes"
    if answer == "no" or (after.done and after.outcome == "confirmed"):
        return "done" if before.node in ("quick_more", "concern") and answer == "no" else "no"
    if after.node == before.node:
        return "unclear"  # asked again without counting (a stall)
    return answer or "unclear"


# Whether the engine keeps the words of a reply it asked again about (the first version did
# not: a report asked again and then answered "no" was lost, so asking again was not safe).
KEEPS_WORDS_ASKED_AGAIN = hasattr(dialogs.engine, "_carry_unread")


def score(reply: Reply, got: str) -> Scored:
    expect = reply.expect
    if reply.asked in ("quick_more", "concern") and expect == "no":
        expect = "done"
    if got == "done" and reply.asked not in ("quick_more",) and expect == "no":
        got = "no"
    ideal = got == expect or (expect == "done" and got == "no")
    reports = expect.startswith("find:") or expect == "person"
    got_item = got.startswith("find:") or got in ("person", "needs_human", "stop")
    why = ""
    if reports and not got_item and (got != "unclear" or not KEEPS_WORDS_ASKED_AGAIN):
        why = "a report ended in no item"
    elif (reply.category == "uncertain" or expect == "unclear") and got in ("no", "done"):
        why = "doubt or chatter read as no"
    elif reply.category == "question" and got in ("no", "done"):
        why = "a question read as no"
    elif (expect == "stop") != (got == "stop"):
        why = "opt-out missed" if expect == "stop" else "opt-out invented"
    elif expect.startswith("find:") and got.startswith("find:") and reply.clear:
        wanted = set(expect[5:].split("+"))
        if not wanted & set(got[5:].split("+")):
            why = "filed under the wrong topic"
    return Scored(reply, got, ideal, not why, why)


def evaluate(replies: Iterable[Reply]) -> list[Scored]:
    return [score(reply, play(reply)) for reply in replies]


def table(scored: list[Scored]) -> str:
    """Safe and ideal shares per category, and in all."""
    by: dict[str, list[Scored]] = defaultdict(list)
    for s in scored:
        by[s.reply.category].append(s)
    lines = ["| category | replies | safe | ideal |", "|---|---:|---:|---:|"]
    for category in sorted(by):
        group = by[category]
        lines.append(_row(category, group))
    lines.append(_row("**all**", scored))
    return "\n".join(lines)


def _row(name: str, group: list[Scored]) -> str:
    n = len(group)
    safe = sum(s.safe for s in group)
    ideal = sum(s.ideal for s in group)
    return f"| {name} | {n} | {safe / n:.1%} | {ideal / n:.1%} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--unsafe", action="store_true", help="list the unsafe replies")
    parser.add_argument("--misses", action="store_true", help="list every reply not ideal")
    parser.add_argument("files", nargs="*", default=list(FILES))
    args = parser.parse_args()
    for name in args.files:
        scored = evaluate(load([name]))
        print(f"## {name}\n")
        print(table(scored))
        languages = Counter(s.reply.lang for s in scored)
        counts = ", ".join(f"{k} {v}" for k, v in sorted(languages.items()))
        unsafe = sum(not s.safe for s in scored)
        print(f"\n{len(scored)} replies ({counts}); unsafe: {unsafe}\n")
        for s in scored:
            if (args.unsafe and not s.safe) or (args.misses and not s.ideal):
                flag = f"UNSAFE ({s.why})" if not s.safe else "not ideal"
                print(
                    f"- {s.reply.id} [{s.reply.asked}] {s.reply.text!r}: expected"
                    f" {s.reply.expect}, got {s.outcome}: {flag}"
                )
        print()


if __name__ == "__main__":
    main()
