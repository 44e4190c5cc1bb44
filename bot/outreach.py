"""The use cases, shared by the webhooks, the scheduler and the pharmacist workspace.

Each function takes the caller's session and works inside the caller's transaction; the caller
commits (one owner per request or job). The exception is sending: `send_checkin_sms` and
`place_checkin_call` record the attempt and commit *before* calling Twilio, then record the
outcome, so that a crash between the two leaves a trace and never a second text (SPEC 7).

Reads use the ORM; the writes of a dialog turn are plain INSERTs and UPDATEs (store/), which
keeps a webhook's transaction short. What the dialog decides is applied in one place,
`_apply_step`: the new state, the queue items for its findings, the check-in status, the opt-out
or opt-in, the language.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, replace
from typing import Any, Protocol

from sqlalchemy.orm import Session

import dialogs
from bot import items
from bot.transports.base import Outcome, Sender, SendResult, Transport, sender_for_store
from bot.transports.errors import is_invalid_number, is_opt_out
from dialogs.phi import named_medicines
from dialogs.sms_rules import (
    GSM7_SINGLE,
    UCS2_SINGLE,
    outside_gsm7,
    single_segment_limit,
    sms_units,
)
from store import conversations, messages, patients, queue
from store.models import (
    Channel,
    Checkin,
    CheckinStatus,
    Conversation,
    Direction,
    Language,
    Message,
    Patient,
    Purpose,
    QueueKind,
    Store,
)
from store.validate import display_phone

log = logging.getLogger(__name__)

# Answers of Twilio's answering machine detection that mean "leave a voicemail".
MACHINE_ANSWERS = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other")


@dataclass(frozen=True)
class Urls:
    """Absolute callback URLs on our public origin (ASCII, opaque ids only: they are signed)."""

    base: str

    @property
    def sms_status(self) -> str:
        return f"{self.base}/twilio/sms/status"

    @property
    def voice_status(self) -> str:
        return f"{self.base}/twilio/voice/status"

    def voice_start(self, message_id: int) -> str:
        return f"{self.base}/twilio/voice?m={message_id}"

    def voice_step(
        self, action: str, conversation_id: int, version: int, *, no_input: bool = False
    ) -> str:
        url = f"{self.base}/twilio/voice/{action}?c={conversation_id}&v={version}"
        return url + "&timeout=1" if no_input else url

    @property
    def voice_message(self) -> str:
        return f"{self.base}/twilio/voice/message"


@dataclass(frozen=True)
class Defaults:
    """Settings the use cases need: the default store and the default sender."""

    store_code: str
    sender: Sender


class PatientFacts(Protocol):
    """What a dialog turn reads of a patient: a `Patient`, or the webhook's plain values."""

    @property
    def id(self) -> int: ...
    @property
    def store_id(self) -> int: ...
    @property
    def phone(self) -> str: ...
    @property
    def first_name(self) -> str: ...
    @property
    def language(self) -> Language: ...
    @property
    def phi_ok(self) -> bool: ...
    @property
    def opted_out(self) -> bool: ...
    @property
    def enrollment(self) -> _EnrollmentFacts | None: ...


class _EnrollmentFacts(Protocol):
    @property
    def anchor_date(self) -> dt.date: ...


class StoreFacts(Protocol):
    """What a dialog turn reads of a store."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def phone(self) -> str: ...


class CheckinFacts(Protocol):
    """What a dialog turn reads of a check-in."""

    @property
    def id(self) -> int: ...
    @property
    def status(self) -> CheckinStatus: ...
    @property
    def anchor_date(self) -> dt.date: ...
    @property
    def completed_at(self) -> dt.datetime | None: ...


class ConversationFacts(Protocol):
    """What a dialog turn reads of a conversation: its saved state and version."""

    @property
    def id(self) -> int: ...
    @property
    def version(self) -> int: ...
    @property
    def data(self) -> dict[str, Any]: ...


@dataclass
class _Turn:
    """Who a dialog turn is about, as read at its start."""

    store: StoreFacts
    patient: PatientFacts
    checkin: CheckinFacts | None
    conversation_id: int | None
    version: int
    channel: Channel

    def message(
        self, direction: Direction, ours: str, body: str | None, **values: object
    ) -> dict[str, object]:
        """Return the columns of a transcript message of this turn."""
        theirs = self.patient.phone
        return {
            "store_id": self.store.id,
            "patient_id": self.patient.id,
            "checkin_id": self.checkin.id if self.checkin else None,
            "direction": direction,
            "channel": self.channel,
            "from_number": theirs if direction is Direction.INBOUND else ours,
            "to_number": ours if direction is Direction.INBOUND else theirs,
            "body": body,
            **values,
        }


# --- Inbound SMS ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboundSms:
    sid: str
    from_number: str
    to_number: str
    body: str
    messaging_service_sid: str | None = None


def handle_inbound_sms(
    session: Session, sms: InboundSms, now: dt.datetime, defaults: Defaults
) -> tuple[str, ...]:
    """Record a patient's text, run the dialog, and return the texts to answer with.

    A second delivery of the same MessageSid fails on the unique SID (the caller then answers
    nothing): checking first would cost a query on every message.
    """
    store, patient = patients.find_inbound_parties(
        session, sms.to_number, sms.messaging_service_sid, sms.from_number, defaults.store_code
    )
    if store is None:
        raise LookupError("no store configured")
    inbound = {
        "store_id": store.id,
        "patient_id": None,
        "direction": Direction.INBOUND,
        "channel": Channel.SMS,
        "from_number": sms.from_number,
        "to_number": sms.to_number,
        "body": sms.body,
        "twilio_sid": sms.sid,
        "status": "received",
    }
    if patient is None:
        # Kept for staff; the answer names the pharmacy and its number, nothing about anyone.
        answer = dialogs.unknown_number_reply(store.name, display_phone(store.phone), "en")
        reply = {
            **inbound,
            "direction": Direction.OUTBOUND,
            "purpose": Purpose.REPLY,
            "from_number": sms.to_number,
            "to_number": sms.from_number,
            "body": answer,
            "twilio_sid": None,
            "status": "twiml",
        }
        inbound_id = messages.record_exchange(session, now=now, inbound=inbound, replies=[reply])
        queue.add_item(
            session,
            kind=QueueKind.CONCERN,
            store_id=store.id,
            message_id=inbound_id,
            text=sms.body,
        )
        return (answer,)
    conversation, checkin = conversations.latest_for_patient(session, patient.id)
    turn = _turn_of(store, patient, checkin, conversation, Channel.SMS)
    context = checkin_context(patient, store, checkin, "sms")
    state = _state_of(conversation, patient, context)
    result = dialogs.step(dialogs.CHECKIN, state, dialogs.Reply(text=sms.body), context)
    answers = sms_texts(result.outputs)
    # The patient's text and our answers in one INSERT, before the step's effects: its queue
    # items point at the patient's text.
    inbound_id = messages.record_exchange(
        session,
        now=now,
        inbound=turn.message(
            Direction.INBOUND, sms.to_number, sms.body, twilio_sid=sms.sid, status="received"
        ),
        replies=[
            turn.message(
                Direction.OUTBOUND, sms.to_number, answer, purpose=Purpose.REPLY, status="twiml"
            )
            for answer in answers
        ],
    )
    _apply_step(session, turn, result, inbound_id, now, via="sms")
    return answers


def sms_texts(outputs: tuple[dialogs.Output, ...]) -> tuple[str, ...]:
    """Return the texts of the outputs that are said (one SMS, or one <Say>, each)."""
    return tuple(
        output.text
        for output in outputs
        if isinstance(output, dialogs.Say | dialogs.AskYesNo | dialogs.AskText | dialogs.End)
    )


# --- The dialog, applied ----------------------------------------------------------------------


def checkin_context(
    patient: PatientFacts,
    store: StoreFacts,
    checkin: CheckinFacts | None,
    channel: dialogs.Channel,
    *,
    inbound_call: bool = False,
) -> dialogs.Context:
    """Build what the dialog needs to know about the pharmacy, the patient and the pickup."""
    pickup = checkin.anchor_date if checkin else _next_anchor(patient)
    return dialogs.Context(
        pharmacy_name=store.name,
        pharmacy_phone=display_phone(store.phone),
        patient_first_name=patient.first_name,
        pickup_date=pickup,
        channel=channel,
        language="es" if patient.language == Language.ES else "en",
        phi_ok=patient.phi_ok,
        inbound_call=inbound_call,
    )


def _next_anchor(patient: PatientFacts) -> dt.date:
    if patient.enrollment is not None:
        return patient.enrollment.anchor_date
    return dt.date.today()


def _turn_of(
    store: StoreFacts,
    patient: PatientFacts,
    checkin: CheckinFacts | None,
    conversation: ConversationFacts | None,
    channel: Channel,
) -> _Turn:
    return _Turn(
        store=store,
        patient=patient,
        checkin=checkin,
        conversation_id=conversation.id if conversation else None,
        version=conversation.version if conversation else 0,
        channel=channel,
    )


def _state_of(
    conversation: ConversationFacts | None, patient: PatientFacts, context: dialogs.Context
) -> dialogs.DialogState | None:
    """Return the saved dialog state; an opted-out patient is always 'ended and opted out'."""
    state = dialogs.DialogState.from_json(conversation.data) if conversation else None
    if patient.opted_out:
        base = state or dialogs.DialogState(dialogs.END, context.language)
        data = {**base.data, "opted_out": True}
        state = replace(base, done=True, data=data)
    return state


_STATUS_OF_OUTCOME = {
    "in_progress": CheckinStatus.IN_PROGRESS,
    "confirmed": CheckinStatus.CONFIRMED,
    "flagged": CheckinStatus.FLAGGED,
    "opted_out": CheckinStatus.OPTED_OUT,
}


def _apply_step(
    session: Session,
    turn: _Turn,
    result: dialogs.Step,
    message_id: int | None,
    now: dt.datetime,
    *,
    via: str,
) -> None:
    """Persist what one dialog step decided; the turn's conversation gets the new version."""
    state = result.state.to_json()
    if turn.conversation_id is None:
        turn.conversation_id, turn.version = conversations.create(
            session,
            patient_id=turn.patient.id,
            checkin_id=turn.checkin.id if turn.checkin else None,
            dialog=dialogs.CHECKIN.name,
            channel=turn.channel,
            state=state,
        )
    else:
        turn.version = conversations.save_state(
            session, turn.conversation_id, turn.version, state, turn.channel
        )
    patient, checkin = turn.patient, turn.checkin
    for finding in result.findings:
        queue.add_item(
            session,
            kind=QueueKind(finding.kind),
            store_id=patient.store_id,
            patient=patient,
            checkin=checkin,
            message_id=message_id,
            text=finding.text if finding.text is not None else finding.note,
            recording_url=finding.recording_url,
            priority=finding.priority,
        )
    if result.opted_out:
        patients.opt_out(session, patient.id, now, via=via)
    if result.opted_in and patients.opt_in(session, patient.id, now):
        # Resubscribed (START): the opt-out's item has nothing left for staff to do.
        items.resolve_opt_out_items(session, patient.store_id, patient.id, now)
    language = Language(result.language)
    if patient.language != language:
        patients.set_language(session, patient.id, language, now)
    if checkin is not None and checkin.status != CheckinStatus.EXPIRED:
        status = _STATUS_OF_OUTCOME[result.outcome]
        # "in progress" never overwrites an answer already given (a late "call me" is not
        # a reason to reopen a confirmed check-in).
        if status == CheckinStatus.IN_PROGRESS and checkin.status != CheckinStatus.SCHEDULED:
            status = checkin.status
        if status != checkin.status or (result.state.done and checkin.completed_at is None):
            conversations.set_checkin_status(
                session, checkin.id, status, done=result.state.done, now=now
            )


# --- Outbound: record, commit, send, record ------------------------------------------------


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
    patient_locked: bool = False,
) -> Outcome:
    """Send the first text (starting the dialog) or the reminder of a check-in.

    Commits twice: once with the attempt recorded as pending, once with Twilio's answer.
    `patient_locked`: see `_may_contact`.
    """
    patient, store = checkin.patient, checkin.store
    if not _may_contact(session, patient, locked=patient_locked):
        return Outcome.FAILED
    conversation = conversations.for_checkin(session, checkin.id)
    context = checkin_context(patient, store, checkin, "sms")
    state = dialogs.DialogState.from_json(conversation.data) if conversation else None
    result = dialogs.step(dialogs.CHECKIN, state, dialogs.Start(), context)
    body = sms_texts(result.outputs)[0]
    turn = _turn_of(store, patient, checkin, conversation, Channel.SMS)
    sender = sender_for_store(store, defaults.sender)
    message_id = messages.record(
        session,
        now=now,
        **turn.message(
            Direction.OUTBOUND,
            sender.from_number or sender.messaging_service_sid or "",
            body,
            purpose=purpose,
            status="pending",
        ),
    )
    # The attempt first: the check-in is then in progress, which the dialog's first step would
    # otherwise write with a statement of its own.
    _mark_attempt(checkin, now)
    _apply_step(session, turn, result, None, now, via="sms")
    session.commit()
    sent = transport.send_sms(
        to=patient.phone,
        body=body,
        sender=sender,
        status_callback=urls.sms_status,
        validity_period=validity_seconds,
    )
    _record_send(session, message_id, patient.id, checkin, Channel.SMS, sent, now)
    session.commit()
    return sent.outcome


def place_checkin_call(
    session: Session,
    checkin: Checkin,
    now: dt.datetime,
    *,
    transport: Transport,
    urls: Urls,
    defaults: Defaults,
    purpose: Purpose = Purpose.CALL,
    patient_locked: bool = False,
) -> Outcome:
    """Call the patient; the dialog starts when Twilio fetches the voice URL (human answered).

    `purpose` is FIRST or REMINDER for patients whose channel is voice, CALL for the follow-up
    call of an SMS patient. `patient_locked`: see `_may_contact`.
    """
    patient, store = checkin.patient, checkin.store
    if not _may_contact(session, patient, locked=patient_locked):
        return Outcome.FAILED
    sender = sender_for_store(store, defaults.sender)
    turn = _turn_of(store, patient, checkin, None, Channel.VOICE)
    message_id = messages.record(
        session,
        now=now,
        **turn.message(
            Direction.OUTBOUND,
            sender.from_number or "",
            None,
            purpose=purpose,
            status="pending",
        ),
    )
    _mark_attempt(checkin, now)
    session.commit()
    placed = transport.place_call(
        to=patient.phone,
        sender=sender,
        url=urls.voice_start(message_id),
        status_callback=urls.voice_status,
        machine_detection=True,
    )
    _record_send(session, message_id, patient.id, checkin, Channel.VOICE, placed, now)
    session.commit()
    return placed.outcome


def _may_contact(session: Session, patient: Patient, *, locked: bool = False) -> bool:
    """Check consent and opt-out again, as of now: a STOP may have arrived since the decision.

    `locked`: the caller read `patient` with its row locked (SELECT ... FOR UPDATE on
    PostgreSQL; SQLite transactions here are BEGIN IMMEDIATE) in this same, still open
    transaction, which the record-before-send commit ends. Nobody can have changed the row
    since, so its values are those of now and are checked without reading them again.
    """
    if not locked:
        session.refresh(patient)
    return patient.consent_date is not None and not patient.opted_out


def _mark_attempt(checkin: Checkin, now: dt.datetime) -> None:
    checkin.attempts += 1
    checkin.last_outreach_at = now
    if checkin.status == CheckinStatus.SCHEDULED:
        checkin.status = CheckinStatus.IN_PROGRESS


def _record_send(
    session: Session,
    message_id: int,
    patient_id: int,
    checkin: Checkin | None,
    channel: Channel,
    sent: SendResult,
    now: dt.datetime,
) -> None:
    """Store Twilio's answer to a send and act on the outcomes that need it (SPEC 9)."""
    messages.set_send_result(session, message_id, sent.sid, sent.status, sent.error_code)
    if sent.outcome is Outcome.UNKNOWN:
        log.warning("send outcome unknown for message %s; not retried", message_id)
    _act_on_error(session, message_id, patient_id, checkin, channel, sent.error_code, now)


def _act_on_error(
    session: Session,
    message_id: int,
    patient_id: int | None,
    checkin: Checkin | None,
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


# --- Status callbacks -------------------------------------------------------------------------


def handle_message_status(
    session: Session, sid: str, status: str, error_code: int | None, now: dt.datetime
) -> bool:
    """Apply a message status callback; tell whether it changed anything."""
    message = messages.get_by_sid(session, sid)
    if message is None or not messages.advance_status(message, status, error_code):
        return False
    checkin = session.get(Checkin, message.checkin_id) if message.checkin_id else None
    _act_on_error(
        session, message.id, message.patient_id, checkin, message.channel, error_code, now
    )
    return True


def handle_call_status(
    session: Session, sid: str, status: str, sequence: int | None, now: dt.datetime
) -> bool:
    """Apply a call-progress event in SequenceNumber order; tell whether it was new."""
    message = messages.get_by_sid(session, sid)
    return message is not None and messages.apply_call_event(message, status, sequence)


# --- Voice ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallTurn:
    """What to say on a call now: a dialog turn, a voicemail, a hang-up, or 'leave a message'."""

    kind: str  # "dialog", "voicemail", "hang_up", "leave_message"
    language: str
    outputs: tuple[dialogs.Output, ...] = ()
    conversation_id: int | None = None
    version: int = 0
    text: str | None = None
    closing: str | None = None  # said after a message is left


@dataclass(frozen=True)
class CallAnswered:
    sid: str
    from_number: str
    to_number: str
    direction: str  # "inbound" or "outbound-api"
    answered_by: str | None = None
    message_id: int | None = None  # ours, from the URL of an outbound check-in call

    @property
    def our_number(self) -> str:
        return self.to_number if self.direction == "inbound" else self.from_number


def handle_call_answered(
    session: Session, call: CallAnswered, now: dt.datetime, defaults: Defaults
) -> CallTurn:
    """Start the dialog on an answered check-in call, or route an inbound call."""
    if call.message_id is not None:
        message = session.get(Message, call.message_id)
        if (
            message is None
            or message.checkin_id is None
            or not _call_is_ours(session, message, call.sid)
        ):
            return CallTurn("hang_up", "en")
        checkin = session.get(Checkin, message.checkin_id)
        assert checkin is not None
        patient = patients.get_patient(session, checkin.patient_id, lock=True)
        assert patient is not None
        language = patient.language.value
        if call.answered_by in MACHINE_ANSWERS:
            text = dialogs.voicemail(checkin_context(patient, checkin.store, checkin, "voice"))
            turn = _turn_of(checkin.store, patient, checkin, None, Channel.VOICE)
            _record_said(session, turn, call, text, now)
            return CallTurn("voicemail", language, text=text)
        if call.answered_by == "fax" or patient.opted_out:
            return CallTurn("hang_up", language)
        return _start_call_dialog(session, checkin.store, patient, checkin, call, now)
    return _answer_inbound_call(session, call, now, defaults)


def _call_is_ours(session: Session, message: Message, call_sid: str) -> bool:
    """Tell whether the call `call_sid` can be the one placed as `message`, and note its SID
    when Twilio's answer to placing it was lost (the message has none yet).

    A SID already held by another message is not this call's: the request contradicts the
    transcript (it would also break the unique SID), so the call is hung up on.
    """
    if message.twilio_sid is not None:
        return True
    holder = messages.get_by_sid(session, call_sid)
    if holder is not None:
        return holder.id == message.id
    message.twilio_sid = call_sid
    return True


def _answer_inbound_call(
    session: Session, call: CallAnswered, now: dt.datetime, defaults: Defaults
) -> CallTurn:
    """A patient is calling us: resume their open check-in, or let them leave a message."""
    store, patient = patients.find_inbound_parties(
        session, call.to_number, None, call.from_number, defaults.store_code
    )
    if store is None:
        return CallTurn("hang_up", "en")
    checkin = _open_checkin(session, patient) if patient and not patient.opted_out else None
    if patient is not None and checkin is not None:
        return _start_call_dialog(session, store, patient, checkin, call, now, inbound=True)
    language = patient.language.value if patient else "en"
    prompt, goodbye = dialogs.leave_message(store.name, display_phone(store.phone), language)
    return CallTurn("leave_message", language, text=prompt, closing=goodbye)


def _open_checkin(session: Session, patient: PatientFacts) -> CheckinFacts | None:
    _, checkin = conversations.latest_for_patient(session, patient.id)
    if checkin is not None and checkin.status in (
        CheckinStatus.SCHEDULED,
        CheckinStatus.IN_PROGRESS,
    ):
        return checkin
    return None


def _start_call_dialog(
    session: Session,
    store: StoreFacts,
    patient: PatientFacts,
    checkin: CheckinFacts,
    call: CallAnswered,
    now: dt.datetime,
    *,
    inbound: bool = False,
) -> CallTurn:
    conversation = conversations.for_checkin(session, checkin.id)
    context = checkin_context(patient, store, checkin, "voice", inbound_call=inbound)
    state = dialogs.DialogState.from_json(conversation.data) if conversation else None
    result = dialogs.step(dialogs.CHECKIN, state, dialogs.Start(), context)
    turn = _turn_of(store, patient, checkin, conversation, Channel.VOICE)
    _apply_step(session, turn, result, None, now, via="voice")
    return _call_turn(session, turn, result, call, now)


def _call_turn(
    session: Session, turn: _Turn, result: dialogs.Step, call: CallAnswered, now: dt.datetime
) -> CallTurn:
    spoken = " ".join(sms_texts(result.outputs))
    if spoken:
        _record_said(session, turn, call, spoken, now)
    return CallTurn("dialog", result.language, result.outputs, turn.conversation_id, turn.version)


def _record_said(
    session: Session, turn: _Turn, call: CallAnswered, text: str, now: dt.datetime
) -> None:
    """Record what the call said to the patient, so the transcript shows both sides."""
    messages.record(
        session,
        now=now,
        **turn.message(
            Direction.OUTBOUND, call.our_number, text, purpose=Purpose.REPLY, status="twiml"
        ),
    )


@dataclass(frozen=True)
class VoiceInput:
    conversation_id: int
    version: int
    call: CallAnswered
    event: dialogs.Event
    heard: str | None  # what to write in the transcript ("pressed 1", the speech)
    recording_url: str | None = None
    recording_sid: str | None = None  # Twilio's RecordingSid: a repeated delivery has the same


def handle_voice_input(session: Session, voice: VoiceInput, now: dt.datetime) -> CallTurn:
    """Run the dialog on a keypress, speech, recording or no-input during a call.

    A stale or repeated action (the version in its URL is not the conversation's) is not
    applied twice: it is kept in the transcript and the current question is asked again.
    """
    found = session.get(Conversation, voice.conversation_id)
    if found is None:
        return CallTurn("hang_up", "en")
    patient = patients.get_patient(session, found.patient_id, lock=True)
    assert patient is not None
    session.refresh(found)  # read after the lock: a concurrent step may have moved it
    checkin = session.get(Checkin, found.checkin_id) if found.checkin_id else None
    context = checkin_context(patient, patient.store, checkin, "voice")
    state = _state_of(found, patient, context)
    turn = _turn_of(patient.store, patient, checkin, found, Channel.VOICE)
    inbound_id = None
    repeated = False
    if voice.heard is not None or voice.recording_url is not None:
        said = turn.message(
            Direction.INBOUND,
            voice.call.our_number,
            voice.heard,
            recording_url=voice.recording_url,
            status="received",
        )
        if voice.recording_sid is None:
            inbound_id = messages.record(session, now=now, **said)
        else:  # a recording is kept once, however often Twilio delivers it
            inbound_id = messages.record_once(session, voice.recording_sid, now=now, **said)
            repeated = inbound_id is None
    if repeated or found.version != voice.version:
        if state is None:
            return CallTurn("hang_up", context.language)
        resumed = dialogs.ask_again(dialogs.CHECKIN, state, context)
        return _call_turn(session, turn, resumed, voice.call, now)
    result = dialogs.step(dialogs.CHECKIN, state, voice.event, context)
    _apply_step(session, turn, result, inbound_id, now, via="voice")
    return _call_turn(session, turn, result, voice.call, now)


def handle_voice_message(
    session: Session,
    call: CallAnswered,
    recording_url: str | None,
    now: dt.datetime,
    defaults: Defaults,
    recording_sid: str | None = None,
) -> None:
    """Keep a message left for the pharmacist as a queue item with its recording.

    Once: the message is stored under its RecordingSid (the CallSid when Twilio sent none; a
    call leaves one message), so a repeated delivery adds neither a message nor an item.
    """
    store, patient = patients.find_inbound_parties(
        session, call.to_number, None, call.from_number, defaults.store_code
    )
    if store is None or recording_url is None:
        return
    message_id = messages.record_once(
        session,
        recording_sid or call.sid,
        now=now,
        store_id=store.id,
        patient_id=patient.id if patient else None,
        direction=Direction.INBOUND,
        channel=Channel.VOICE,
        from_number=call.from_number,
        to_number=call.to_number,
        body=None,
        recording_url=recording_url,
        status="received",
    )
    if message_id is None:
        return  # delivered before: kept then
    queue.add_item(
        session,
        kind=QueueKind.CONCERN,
        store_id=store.id,
        patient=patient,
        message_id=message_id,
        recording_url=recording_url,
        text="voicemail left for the pharmacist",
    )


# --- Staff ------------------------------------------------------------------------------------


class CannotText(ValueError):
    """Staff may not text this patient, or not this text; the message says why."""


class NamesMedicine(CannotText):
    """The text names the patient's medicines, and the patient has not agreed to that."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        super().__init__(
            f"This text names a medicine ({', '.join(names)}) and this patient has not agreed "
            "to medicine names in texts."
        )


def staff_text_prefix(store: Store) -> str:
    """What starts every text staff write: the pharmacy's name (SPEC 8)."""
    return f"{store.name}: "


def too_long_for_one_text(text: str) -> str:
    """Say, without jargon, how far `text` is over one text message and why the limit is low."""
    units, limit = sms_units(text), single_segment_limit(text)
    reason = f"Too long for one text: {units} characters with the pharmacy name, {limit} fit."
    if limit == GSM7_SINGLE:
        return reason
    shown = ", ".join(outside_gsm7(text)[:5])
    return (
        f"{reason} Some characters ({shown}) make a text shorter: up to {UCS2_SINGLE} "
        f"characters instead of {GSM7_SINGLE}."
    )


def text_patient(
    session: Session,
    patient: Patient,
    body: str,
    now: dt.datetime,
    *,
    checkin_id: int | None,
    transport: Transport,
    urls: Urls,
    defaults: Defaults,
    medicine_names_confirmed: bool = False,
) -> Outcome:
    """Send a staff member's text to a patient; it joins the transcript like any other.

    Like every pharmacy-initiated text it names the pharmacy and fits one segment, and it is
    recorded before it is sent. Patients who opted out or never consented are not texted. A
    text naming one of the patient's medicines, to a patient without `phi_ok`, goes only
    once staff have confirmed it (NamesMedicine otherwise; SPEC 8 and 10).
    """
    if patient.opted_out:
        raise CannotText("The patient opted out of texts; call them instead.")
    if patient.consent_date is None:
        raise CannotText("No outreach consent is recorded for this patient; call them instead.")
    store = patient.store
    words = " ".join(body.split())
    text = staff_text_prefix(store) + words
    if not dialogs.fits_one_segment(text):
        raise CannotText(too_long_for_one_text(text))
    if not patient.phi_ok and not medicine_names_confirmed:
        named = named_medicines(words, [m.name for m in patient.medicines])
        if named:
            raise NamesMedicine(named)
    sender = sender_for_store(store, defaults.sender)
    message_id = messages.record(
        session,
        now=now,
        store_id=store.id,
        patient_id=patient.id,
        checkin_id=checkin_id,
        direction=Direction.OUTBOUND,
        channel=Channel.SMS,
        purpose=Purpose.STAFF,
        from_number=sender.from_number or sender.messaging_service_sid or "",
        to_number=patient.phone,
        body=text,
        status="pending",
    )
    session.commit()
    sent = transport.send_sms(
        to=patient.phone, body=text, sender=sender, status_callback=urls.sms_status
    )
    checkin = session.get(Checkin, checkin_id) if checkin_id else None
    _record_send(session, message_id, patient.id, checkin, Channel.SMS, sent, now)
    session.commit()
    return sent.outcome
