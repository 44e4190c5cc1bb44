"""Properties of the check-in under arbitrary replies: never raises, always ends, drops nothing."""

from __future__ import annotations

import datetime
import functools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs import (
    CHECKIN,
    CHECKIN_QUICK,
    KINDS,
    AskText,
    AskYesNo,
    Context,
    Dialog,
    DialogState,
    End,
    Event,
    Reply,
    Say,
    Start,
    Step,
    Timeout,
    Transfer,
    fits_one_segment,
    step,
)
from dialogs.engine import OUTCOMES, nothing_to_file
from dialogs.understand import read_text

# The longest way through, replying only: a yes/no question takes 2 helps (or STARTs), 1 reply it
# cannot read and then an answer (4 replies); a details question the same (4). Ten questions on
# the longest path (five yes/no, five details) give 40 replies at most before the dialog is done.
MAX_REPLIES = 40
# With timeouts too, a yes/no question can also take one no-input re-ask (5); then the first End
# (done, or the call paused) comes within 5 * 5 + 4 * 5 = 45 events.
MAX_EVENTS_TO_AN_END = 45

VOCABULARY = [
    "yes",
    "no",
    "Y",
    "N",
    "1",
    "2",
    "0",
    "sí",
    "no gracias",
    "nada",
    "👍",
    "❌",
    "HELP",
    "ayuda",
    "STOP",
    "ALTO",
    "START",
    "call me",
    "llámenme",
    "purple",
    "ok",
    "I don't want this",
    "please stop texting me",
    "yes my doctor changed my metformin",
    "no, but I have a question",
    "When is my refill ready?",
    "",
    "   ",
]
URL = "https://api.twilio.example/rec/RE1"

texts = st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=200), st.text(max_size=1600))
replies = st.one_of(
    texts.map(lambda t: Reply(text=t)),
    st.sampled_from("0123456789#*").map(lambda d: Reply(digits=d)),
    st.builds(
        Reply,
        speech=st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=60)),
        confidence=st.one_of(st.none(), st.floats(0, 1)),
    ),
    st.builds(Reply, recording_url=st.just(URL), text=st.one_of(st.none(), st.text(max_size=60))),
    st.just(Reply()),
)
contexts = st.builds(
    Context,
    pharmacy_name=st.sampled_from(["Main Street Pharmacy", "Farmacia Comunitaria Santa María"]),
    pharmacy_phone=st.just("(555) 010-0199"),
    patient_first_name=st.sampled_from(["Maria", "Maximiliano-Jonathan"]),
    pickup_date=st.dates(datetime.date(2025, 1, 1), datetime.date(2030, 12, 31)),
    channel=st.sampled_from(["sms", "voice"]),
    language=st.sampled_from(["en", "es"]),
)


def words_of(reply: Reply) -> str | None:
    for value in (reply.speech, reply.text, reply.digits):
        if value and value.strip():
            return value.strip()
    return None


def made_of(text: str, said: list[str]) -> bool:
    """True if `text` is some of the replies in `said`, joined by newlines."""
    pieces = {p for p in said if p}

    @functools.cache
    def rest_ok(start: int) -> bool:
        for piece in pieces:
            end = start + len(piece)
            if text.startswith(piece, start) and (
                end == len(text) or (text[end] == "\n" and rest_ok(end + 1))
            ):
                return True
        return False

    return rest_ok(0)


def checked_step(
    state: DialogState | None, event: Event, ctx: Context, said: list[str], dialog: Dialog
) -> Step:
    """Step once and check what must hold after every step."""
    before = json.dumps(state.to_json(), sort_keys=True) if state else None
    result = step(dialog, state, event, ctx)
    if state is not None:  # pure: the input state is left as it was
        assert json.dumps(state.to_json(), sort_keys=True) == before
    assert DialogState.from_json(json.loads(json.dumps(result.state.to_json()))) == result.state
    assert result.outcome in OUTCOMES
    assert result.language in ("en", "es")
    assert result.state.done or result.outcome == "in_progress"
    for finding in result.findings:
        assert finding.kind in KINDS
        # A finding only ever carries the patient's own words (one reply, or several joined
        # by newlines), never text we made up.
        assert finding.text is None or made_of(finding.text, said), (finding.text, said)
    for output in result.outputs:
        if ctx.channel == "sms" and isinstance(output, Say | AskYesNo | AskText | End):
            assert fits_one_segment(output.text), output.text
    if result.opted_out:
        assert len(result.outputs) == 1 and isinstance(result.outputs[0], End)
    return result


FORMS = pytest.mark.parametrize("dialog", [CHECKIN, CHECKIN_QUICK], ids=["full", "quick"])


@FORMS
@settings(max_examples=200, deadline=None)
@given(ctx=contexts, replies=st.lists(replies, min_size=1, max_size=MAX_REPLIES))
def test_it_never_raises_ends_in_bounded_replies_and_drops_nothing(
    dialog: Dialog, ctx: Context, replies: list[Reply]
) -> None:
    said: list[str] = []
    state = checked_step(None, Start(), ctx, said, dialog).state
    count = 0
    call_ended = False
    # By voice a call may end with the check-in still open (someone else answered, silence):
    # the call is over, the next one starts afresh.
    while not state.done and not call_ended:
        reply = replies[count % len(replies)]  # cycle: the bound holds for any sequence
        count += 1
        assert count <= MAX_REPLIES, "the dialog did not end"
        said.append(words_of(reply) or "")
        result = checked_step(state, reply, ctx, said, dialog)
        assert result.outputs, "a reply to an open dialog was left unanswered"
        state = result.state
        call_ended = ctx.channel == "voice" and isinstance(result.outputs[-1], End | Transfer)
    if not state.done:
        return
    # After the end, every reply is answered or kept in a finding; only a repeated opt-out of
    # an opted-out patient (at most one confirmation, SPEC 8) and a plain acknowledgement
    # ("ok", "thanks", SPEC 6) get neither: both stay in the transcript.
    for reply in replies[:5]:
        said.append(words_of(reply) or "")
        opted_out = bool(state.data.get("opted_out"))
        result = checked_step(state, reply, ctx, said, dialog)
        repeated_stop = opted_out and words_of(reply) is not None and _is_stop(reply)
        # A plain "thanks" or "ok" after the closing words needs neither (SPEC 6).
        acknowledged = nothing_to_file(CHECKIN, reply)
        assert result.outputs or result.findings or repeated_stop or acknowledged, reply
        if opted_out and not result.opted_in:
            assert result.outputs == ()  # nothing is sent to an opted-out patient
        state = result.state


@FORMS
@settings(max_examples=150, deadline=None)
@given(
    ctx=contexts,
    events=st.lists(st.one_of(replies, st.just(Timeout())), min_size=1, max_size=60),
)
def test_it_reaches_an_end_within_a_bound_even_with_timeouts(
    dialog: Dialog, ctx: Context, events: list[Event]
) -> None:
    said: list[str] = []
    state = checked_step(None, Start(), ctx, said, dialog).state
    for count in range(1, MAX_EVENTS_TO_AN_END + 1):
        event = events[(count - 1) % len(events)]
        if isinstance(event, Reply):
            said.append(words_of(event) or "")
        result = checked_step(state, event, ctx, said, dialog)
        state = result.state
        if any(isinstance(o, End | Transfer) for o in result.outputs):
            return
    raise AssertionError("no End within the bound")


def _is_stop(reply: Reply) -> bool:
    if reply.digits and not (reply.text or reply.speech):
        return reply.digits.strip() == "9"
    low_confidence = reply.confidence is not None and reply.confidence < CHECKIN.speech_threshold
    return (
        not (reply.speech and low_confidence) and read_text(words_of(reply) or "").intent == "stop"
    )
