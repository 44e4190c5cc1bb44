"""Replies after a check-in ended, or while the patient is opted out: a plain acknowledgement
("ok", "thanks", "no") is only kept in the transcript; real words still become an item."""

from __future__ import annotations

import datetime as dt

import pytest

from dialogs import CHECKIN, Context, DialogState, Reply, step
from dialogs.engine import nothing_to_file

CTX = Context(
    pharmacy_name="Main Street Pharmacy",
    pharmacy_phone="(555) 010-0199",
    patient_first_name="Ana",
    pickup_date=dt.date(2026, 12, 7),
    channel="sms",
    language="en",
    phi_ok=False,
)
OPTED_OUT = DialogState("end", "en", {"opted_out": True}, done=True, outcome="opted_out")
CONFIRMED = DialogState("end", "en", {"opted_out": False}, done=True, outcome="confirmed")
PLAIN = [
    "no",
    "No.",
    "ok",
    "OK!",
    "okay thanks",
    "yes",
    "Thanks",
    "thank you!",
    "👍",
    "🙏",
    "gracias",
]
WORDS = [
    "can I still pick up on Friday?",
    "no?",
    "no good",
    "yes I need test strips",
    "ok but my doctor changed my dose",
    "I was in the ER",
]


@pytest.mark.parametrize("text", PLAIN)
def test_a_plain_acknowledgement_is_recognised(text: str) -> None:
    assert nothing_to_file(CHECKIN, Reply(text=text))


@pytest.mark.parametrize("text", WORDS)
def test_real_words_are_not_an_acknowledgement(text: str) -> None:
    assert not nothing_to_file(CHECKIN, Reply(text=text))


@pytest.mark.parametrize("text", PLAIN)
@pytest.mark.parametrize("state", [OPTED_OUT, CONFIRMED], ids=["opted_out", "confirmed"])
def test_a_plain_reply_after_the_end_raises_nothing_and_sends_nothing(
    state: DialogState, text: str
) -> None:
    result = step(CHECKIN, state, Reply(text=text), CTX)
    assert (result.findings, result.outputs) == ((), ())
    assert result.outcome == state.outcome and not result.opted_in


@pytest.mark.parametrize("text", WORDS)
def test_real_words_while_opted_out_still_become_an_item_and_get_no_answer(text: str) -> None:
    result = step(CHECKIN, OPTED_OUT, Reply(text=text), CTX)
    assert [(f.kind, f.text) for f in result.findings] == [("concern", text)]
    assert result.outputs == ()


def test_start_still_resubscribes_and_stop_still_sends_nothing() -> None:
    assert step(CHECKIN, OPTED_OUT, Reply(text="START"), CTX).opted_in
    assert step(CHECKIN, OPTED_OUT, Reply(text="STOP"), CTX).outputs == ()
