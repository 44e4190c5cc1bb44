"""Pharmacy-initiated outreach: record, commit, send, record (SPEC 7).

Every send is recorded as `pending` and committed *before* Twilio is called, then Twilio's answer
is recorded: a crash between the two leaves a trace and never a second text. This is the one
deliberate exception to "the caller commits". Each function first reads the patient again with
the row locked, so a STOP that arrived since the caller decided is honoured, and returns what
happened (`Sent`) instead of making the caller watch the transport.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

import dialogs
from bot import metrics
from bot.outreach.links import Defaults, Urls
from bot.outreach.turn import Turn, apply_step, checkin_context, open_turn, sms_texts
from bot.transports.base import Outcome, Sender, SendResult, Transport, sender_for_store
from bot.transports.errors import is_invalid_number, is_opt_out
from store import checkins, conversations, messages, patients, queue
from store.models import Channel, Checkin, Direction, Purpose, QueueKind
from store.turns import TurnCheckin, TurnConversation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sent:
    """What a send did: nothing (`result` None: the patient is no longer contactable), or the
    recorded message and Twilio's answer to it."""

    outcome: Outcome
    message_id: int | None = None
    result: SendResult | None = None


NOT_CONTACTABLE = Sent(Outcome.FAILED)


def _locked_turn(
    session: Session, checkin: Checkin, channel: Channel
) -> tuple[Turn, TurnConversation | None] | None:
    """The check-in's turn and conversation, its patient read again with the row locked;
    None if not contactable (no consent, or opted out since the caller decided)."""
    parties = patients.lock_for_turn(session, checkin.patient_id)
    if parties is None or not parties[1].contactable:
        return None
    store, patient = parties
    found = conversations.for_checkin(session, checkin.id)
    conversation = TurnConversation.of(found) if found else None
    return open_turn(store, patient, TurnCheckin.of(checkin), conversation, channel), conversation


@dataclass(frozen=True)
class CheckinText:
    """A check-in's text, rendered and not yet recorded: the dialog's step (whose state the
    caller saves with `apply_step`), the words, the sender and the message's columns."""

    turn: Turn
    result: dialogs.Step
    body: str
    sender: Sender
    message: dict[str, object]


def prepare_checkin_sms(
    turn: Turn,
    conversation: TurnConversation | None,
    purpose: Purpose,
    now: dt.datetime,
    defaults: Defaults,
    *,
    status: str,
) -> CheckinText:
    """Render the first text or a reminder of a check-in: the dialog's step from its saved
    state (a reminder asks the question it is at), in one segment, from the store's sender."""
    context = checkin_context(turn, now)
    state = dialogs.DialogState.from_json(conversation.data) if conversation else None
    result = dialogs.step(turn.dialog, state, dialogs.Start(), context)
    body = sms_texts(result.outputs)[0]
    sender = sender_for_store(turn.store, defaults.sender)
    ours = sender.from_number or sender.messaging_service_sid or ""
    message = turn.message(Direction.OUTBOUND, ours, body, purpose=purpose, status=status)
    return CheckinText(turn, result, body, sender, message)


def send_checkin_sms(
    session: Session,
    checkin: Checkin,
    purpose: Purpose,
    now: dt.datetime,
    *,
    transport: Transport,
    urls: Urls,
    defaults: Defaults,
    validity_seconds: int | None = None,
) -> Sent:
    """Send the first text (starting the dialog) or a reminder of a check-in (the question it
    is at: a reminder to finish when the patient answered part of it)."""
    locked = _locked_turn(session, checkin, Channel.SMS)
    if locked is None:
        return NOT_CONTACTABLE
    turn, conversation = locked
    text = prepare_checkin_sms(turn, conversation, purpose, now, defaults, status="pending")
    result, body, sender = text.result, text.body, text.sender
    message_id = messages.record(session, now=now, **text.message)
    # The attempt first: the check-in is then in progress, which the dialog's first step would
    # otherwise write with a statement of its own.
    checkins.note_attempt(checkin, now)
    turn.checkin = TurnCheckin.of(checkin)
    apply_step(session, turn, result, None, now, via="sms")
    session.commit()
    sent = transport.send_sms(
        to=turn.patient.phone,
        body=body,
        sender=sender,
        status_callback=urls.sms_status,
        validity_period=validity_seconds,
    )
    record_send(session, message_id, turn.patient.id, checkin.id, Channel.SMS, sent, now)
    session.commit()
    return Sent(sent.outcome, message_id, sent)


def place_checkin_call(
    session: Session,
    checkin: Checkin,
    now: dt.datetime,
    *,
    transport: Transport,
    urls: Urls,
    defaults: Defaults,
    purpose: Purpose = Purpose.CALL,
) -> Sent:
    """Call the patient; the dialog starts when Twilio fetches the voice URL (human answered).

    `purpose` is FIRST or REMINDER for patients whose channel is voice, CALL for the follow-up
    call of an SMS patient.
    """
    locked = _locked_turn(session, checkin, Channel.VOICE)
    if locked is None:
        return NOT_CONTACTABLE
    turn, _ = locked
    sender = sender_for_store(turn.store, defaults.sender)
    message_id = messages.record(
        session,
        now=now,
        **turn.message(
            Direction.OUTBOUND, sender.from_number or "", None, purpose=purpose, status="pending"
        ),
    )
    checkins.note_attempt(checkin, now)
    session.commit()
    placed = transport.place_call(
        to=turn.patient.phone,
        sender=sender,
        url=urls.voice_start(message_id),
        status_callback=urls.voice_status,
        machine_detection=True,
    )
    record_send(session, message_id, turn.patient.id, checkin.id, Channel.VOICE, placed, now)
    session.commit()
    return Sent(placed.outcome, message_id, placed)


def send_notice(
    session: Session,
    patient_id: int,
    purpose: Purpose,
    text: str,
    now: dt.datetime,
    *,
    transport: Transport,
    urls: Urls,
    defaults: Defaults,
    channel: Channel = Channel.SMS,
    checkin_id: int | None = None,
    validity_seconds: int | None = None,
) -> Sent:
    """Send a notice that asks nothing (refills ready, a pickup reminder, the welcome text).

    By SMS, `text` is the text; by voice, a call whose answer (`/twilio/voice/notice`) says
    `text`, the same PHI-free words a voicemail may hold. The caller renders `text` (dialogs/
    texts) and checks the window and caps; this function checks consent and opt-out, records
    the notice with its `purpose` (it counts as outreach, SPEC 7), and sends it.
    """
    parties = patients.lock_for_turn(session, patient_id)
    if parties is None or not parties[1].contactable:
        return NOT_CONTACTABLE
    store, patient = parties
    sender = sender_for_store(store, defaults.sender)
    ours = sender.from_number or sender.messaging_service_sid or ""
    message_id = messages.record(
        session,
        now=now,
        store_id=store.id,
        patient_id=patient.id,
        checkin_id=checkin_id,
        direction=Direction.OUTBOUND,
        channel=channel,
        purpose=purpose,
        from_number=ours,
        to_number=patient.phone,
        body=text,
        status="pending",
    )
    session.commit()
    if channel is Channel.SMS:
        sent = transport.send_sms(
            to=patient.phone,
            body=text,
            sender=sender,
            status_callback=urls.sms_status,
            validity_period=validity_seconds,
        )
    else:
        sent = transport.place_call(
            to=patient.phone,
            sender=sender,
            url=urls.voice_notice(message_id),
            status_callback=urls.voice_status,
            machine_detection=True,
        )
    record_send(session, message_id, patient.id, checkin_id, channel, sent, now)
    session.commit()
    return Sent(sent.outcome, message_id, sent)


def record_send(
    session: Session,
    message_id: int,
    patient_id: int,
    checkin_id: int | None,
    channel: Channel,
    sent: SendResult,
    now: dt.datetime,
) -> None:
    """Store Twilio's answer to a send and act on the outcomes that need it (SPEC 9)."""
    messages.set_send_result(session, message_id, sent.sid, sent.status, sent.error_code)
    act_on_outcome(session, message_id, patient_id, checkin_id, channel, sent, now)


def act_on_outcome(
    session: Session,
    message_id: int,
    patient_id: int | None,
    checkin_id: int | None,
    channel: Channel,
    sent: SendResult,
    now: dt.datetime,
) -> None:
    """What a send's outcome means beyond its message row, once its answer is stored (one
    send here, or a batch's in scheduler/batch.py): counted for /metrics, a warning when
    unknown (never retried), and the error codes of SPEC 9."""
    metrics.count_send(channel.value, sent.outcome.value)
    if sent.outcome is Outcome.UNKNOWN:
        log.warning("send outcome unknown for message %s; not retried", message_id)
    act_on_error(session, message_id, patient_id, checkin_id, channel, sent.error_code, now)


def act_on_error(
    session: Session,
    message_id: int,
    patient_id: int | None,
    checkin_id: int | None,
    channel: Channel,
    code: int | None,
    now: dt.datetime,
) -> None:
    """An opt-out code opts the patient out; an invalid-number code raises one invalid_number
    item per check-in (which codes: bot/transports/errors.py)."""
    if code is None or patient_id is None:
        return
    patient = patients.get_patient(session, patient_id)
    if patient is None:
        return
    checkin = session.get(Checkin, checkin_id) if checkin_id else None
    if is_opt_out(code) and patients.opt_out(session, patient.id, now, via=f"twilio_{code}"):
        queue.add_item(
            session,
            kind=QueueKind.OPTED_OUT,
            store_id=patient.store_id,
            patient=patient,
            checkin=checkin,
            message_id=message_id,
            text=f"Twilio error {code}: recipient unsubscribed",
        )
    elif is_invalid_number(code) and not (
        checkin is not None and queue.has_item(session, checkin.id, QueueKind.INVALID_NUMBER)
    ):
        queue.add_item(
            session,
            kind=QueueKind.INVALID_NUMBER,
            store_id=patient.store_id,
            patient=patient,
            checkin=checkin,
            message_id=message_id,
            text=f"Twilio error {code}: the number cannot receive {channel.value}",
        )
