"""The use cases, shared by the webhooks, the scheduler and the pharmacist workspace.

Each function takes the caller's session and works inside the caller's transaction; the caller
commits (one owner per request or job). The exception is sending: `send_checkin_sms` and
`place_checkin_call` record the attempt and commit *before* calling Twilio, then record the
outcome, so that a crash between the two leaves a trace and never a second text (SPEC 7).

What the dialog decides (dialogs/) is applied here in one place, `_apply_step`: the new state,
the queue items for its findings, the check-in status, the opt-out or opt-in, the language.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

import dialogs
from bot.transports.base import Outcome, Sender, SendResult, Transport, sender_for_store
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
# Twilio error codes that mean the number cannot receive the channel.
INVALID_NUMBER_CODES = (21211, 21614)
OPT_OUT_CODE = 21610


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

    def voice_step(self, action: str, conversation: Conversation, *, no_input: bool = False) -> str:
        url = f"{self.base}/twilio/voice/{action}?c={conversation.id}&v={conversation.version}"
        return url + "&timeout=1" if no_input else url

    @property
    def voice_message(self) -> str:
        return f"{self.base}/twilio/voice/message"


@dataclass(frozen=True)
class Defaults:
    """Settings the use cases need: the default store and the default sender."""

    store_code: str
    sender: Sender


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

    A second delivery of the same MessageSid returns no text and changes nothing.
    """
    if messages.get_by_sid(session, sms.sid) is not None:
        return ()
    store = patients.find_store_for_inbound(
        session, sms.to_number, sms.messaging_service_sid, defaults.store_code
    )
    if store is None:
        raise LookupError("no store configured")
    patient = patients.find_patient_by_phone(session, store.id, sms.from_number, lock=True)
    inbound = _add_message(
        session,
        store,
        patient,
        None,
        Direction.INBOUND,
        Channel.SMS,
        body=sms.body,
        sid=sms.sid,
        status="received",
        numbers=(sms.from_number, sms.to_number),
    )
    if patient is None:
        # Kept for staff; the answer names the pharmacy and its number, nothing about anyone.
        queue.add_item(
            session, kind=QueueKind.CONCERN, store_id=store.id, message=inbound, text=sms.body
        )
        answer = dialogs.unknown_number_reply(store.name, display_phone(store.phone), "en")
        _add_reply(session, store, None, None, Channel.SMS, answer, sms.to_number, sms.from_number)
        return (answer,)
    conversation = conversations.latest_for_patient(session, patient.id)
    checkin = conversation_checkin(session, conversation)
    context = checkin_context(patient, store, checkin, "sms")
    state = _state_of(conversation, patient, context)
    result = dialogs.step(dialogs.CHECKIN, state, dialogs.Reply(text=sms.body), context)
    _apply_step(session, patient, conversation, checkin, result, inbound, now, via="sms")
    answers = sms_texts(result.outputs)
    for answer in answers:
        _add_reply(
            session, store, patient, checkin, Channel.SMS, answer, sms.to_number, sms.from_number
        )
    return answers


def sms_texts(outputs: tuple[dialogs.Output, ...]) -> tuple[str, ...]:
    """Return the texts of the outputs that are said by SMS (one message each)."""
    return tuple(
        output.text
        for output in outputs
        if isinstance(output, dialogs.Say | dialogs.AskYesNo | dialogs.AskText | dialogs.End)
    )


# --- The dialog, applied ----------------------------------------------------------------------


def checkin_context(
    patient: Patient, store: Store, checkin: Checkin | None, channel: dialogs.Channel
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
    )


def _next_anchor(patient: Patient) -> dt.date:
    if patient.enrollment is not None:
        return patient.enrollment.anchor_date
    return dt.date.today()


def conversation_checkin(session: Session, conversation: Conversation | None) -> Checkin | None:
    if conversation is None or conversation.checkin_id is None:
        return None
    return session.get(Checkin, conversation.checkin_id)


def _state_of(
    conversation: Conversation | None, patient: Patient, context: dialogs.Context
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
    patient: Patient,
    conversation: Conversation | None,
    checkin: Checkin | None,
    result: dialogs.Step,
    inbound: Message | None,
    now: dt.datetime,
    *,
    via: str,
) -> None:
    """Persist what one dialog step decided."""
    if conversation is not None:
        conversation.data = result.state.to_json()
        conversation.node = result.state.node
        conversation.done = result.state.done
    for finding in result.findings:
        queue.add_item(
            session,
            kind=QueueKind(finding.kind),
            store_id=patient.store_id,
            patient=patient,
            checkin=checkin,
            message=inbound,
            text=finding.text if finding.text is not None else finding.note,
            recording_url=finding.recording_url,
            priority=finding.priority,
        )
    if result.opted_out:
        patients.opt_out(session, patient, now, via=via)
    if result.opted_in:
        patients.opt_in(patient)
    language = Language(result.language)
    if patient.language != language:
        patient.language = language
    if checkin is not None and checkin.status != CheckinStatus.EXPIRED:
        status = _STATUS_OF_OUTCOME[result.outcome]
        if checkin.status != status and not (
            status == CheckinStatus.IN_PROGRESS and checkin.status != CheckinStatus.SCHEDULED
        ):
            checkin.status = status
        if result.state.done:
            checkin.next_attempt_at = None
            checkin.completed_at = checkin.completed_at or now


# --- Messages ---------------------------------------------------------------------------------


def _add_message(
    session: Session,
    store: Store,
    patient: Patient | None,
    checkin: Checkin | None,
    direction: Direction,
    channel: Channel,
    *,
    body: str | None,
    status: str,
    numbers: tuple[str, str],
    sid: str | None = None,
    purpose: Purpose | None = None,
    recording_url: str | None = None,
) -> Message:
    message = Message(
        store_id=store.id,
        patient_id=patient.id if patient else None,
        checkin_id=checkin.id if checkin else None,
        direction=direction,
        channel=channel,
        purpose=purpose,
        from_number=numbers[0],
        to_number=numbers[1],
        body=body,
        recording_url=recording_url,
        twilio_sid=sid,
        status=status,
    )
    session.add(message)
    session.flush()  # a duplicate SID fails here, before anything else is written
    return message


def _add_reply(
    session: Session,
    store: Store,
    patient: Patient | None,
    checkin: Checkin | None,
    channel: Channel,
    body: str,
    our_number: str,
    their_number: str,
) -> Message:
    """Record an answer given inside the webhook's TwiML (Twilio sends it; no SID to us)."""
    return _add_message(
        session,
        store,
        patient,
        checkin,
        Direction.OUTBOUND,
        channel,
        body=body,
        status="twiml",
        numbers=(our_number, their_number),
        purpose=Purpose.REPLY,
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
) -> Outcome:
    """Send the first text (starting the dialog) or the reminder of a check-in.

    Commits twice: once with the attempt recorded as pending, once with Twilio's answer.
    """
    patient, store = checkin.patient, checkin.store
    conversation = conversations.for_checkin(session, checkin.id)
    context = checkin_context(patient, store, checkin, "sms")
    state = dialogs.DialogState.from_json(conversation.data) if conversation else None
    result = dialogs.step(dialogs.CHECKIN, state, dialogs.Start(), context)
    body = sms_texts(result.outputs)[0]
    if conversation is None:
        conversation = Conversation(
            patient_id=patient.id,
            checkin_id=checkin.id,
            dialog=dialogs.CHECKIN.name,
            channel=Channel.SMS,
            node=result.state.node,
            data=result.state.to_json(),
        )
        session.add(conversation)
    sender = sender_for_store(store, defaults.sender)
    message = _add_message(
        session,
        store,
        patient,
        checkin,
        Direction.OUTBOUND,
        Channel.SMS,
        body=body,
        status="pending",
        purpose=purpose,
        numbers=(sender.from_number or sender.messaging_service_sid or "", patient.phone),
    )
    _mark_attempt(checkin, now)
    session.commit()
    sent = transport.send_sms(
        to=patient.phone,
        body=body,
        sender=sender,
        status_callback=urls.sms_status,
        validity_period=validity_seconds,
    )
    _record_send(session, message, sent, now)
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
) -> Outcome:
    """Call the patient; the dialog starts when Twilio fetches the voice URL (human answered)."""
    patient, store = checkin.patient, checkin.store
    sender = sender_for_store(store, defaults.sender)
    message = _add_message(
        session,
        store,
        patient,
        checkin,
        Direction.OUTBOUND,
        Channel.VOICE,
        body=None,
        status="pending",
        purpose=Purpose.CALL,
        numbers=(sender.from_number or "", patient.phone),
    )
    _mark_attempt(checkin, now)
    session.commit()
    placed = transport.place_call(
        to=patient.phone,
        sender=sender,
        url=urls.voice_start(message.id),
        status_callback=urls.voice_status,
        machine_detection=True,
    )
    _record_send(session, message, placed, now)
    session.commit()
    return placed.outcome


def _mark_attempt(checkin: Checkin, now: dt.datetime) -> None:
    checkin.attempts += 1
    checkin.last_outreach_at = now
    if checkin.status == CheckinStatus.SCHEDULED:
        checkin.status = CheckinStatus.IN_PROGRESS


def _record_send(session: Session, message: Message, sent: SendResult, now: dt.datetime) -> None:
    """Store Twilio's answer to a send and act on the outcomes that need it (SPEC 9)."""
    message.twilio_sid = sent.sid or message.twilio_sid
    message.status = sent.status
    message.error_code = sent.error_code
    if sent.outcome is Outcome.UNKNOWN:
        log.warning("send outcome unknown for message %s; not retried", message.id)
    _act_on_error(session, message, sent.error_code, now)


def _act_on_error(session: Session, message: Message, code: int | None, now: dt.datetime) -> None:
    """21610 opts the patient out; 21211/21614 raise one invalid_number item per check-in."""
    if code is None or message.patient_id is None:
        return
    patient = patients.get_patient(session, message.patient_id)
    if patient is None:
        return
    checkin = session.get(Checkin, message.checkin_id) if message.checkin_id else None
    if code == OPT_OUT_CODE and patients.opt_out(session, patient, now, via="twilio_21610"):
        queue.add_item(
            session,
            kind=QueueKind.OPTED_OUT,
            store_id=patient.store_id,
            patient=patient,
            checkin=checkin,
            message=message,
            text=f"Twilio error {code}: recipient unsubscribed",
        )
    elif code in INVALID_NUMBER_CODES and not (
        checkin is not None and queue.has_item(session, checkin.id, QueueKind.INVALID_NUMBER)
    ):
        queue.add_item(
            session,
            kind=QueueKind.INVALID_NUMBER,
            store_id=patient.store_id,
            patient=patient,
            checkin=checkin,
            message=message,
            text=f"Twilio error {code}: the number cannot receive {message.channel.value}",
        )


# --- Status callbacks -------------------------------------------------------------------------


def handle_message_status(
    session: Session, sid: str, status: str, error_code: int | None, now: dt.datetime
) -> bool:
    """Apply a message status callback; tell whether it changed anything."""
    message = messages.get_by_sid(session, sid)
    if message is None or not messages.advance_status(message, status, error_code):
        return False
    _act_on_error(session, message, error_code, now)
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
    conversation: Conversation | None = None
    text: str | None = None


@dataclass(frozen=True)
class CallAnswered:
    sid: str
    from_number: str
    to_number: str
    direction: str  # "inbound" or "outbound-api"
    answered_by: str | None = None
    message_id: int | None = None  # ours, from the URL of an outbound check-in call


def handle_call_answered(
    session: Session, call: CallAnswered, now: dt.datetime, defaults: Defaults
) -> CallTurn:
    """Start the dialog on an answered check-in call, or route an inbound call."""
    if call.message_id is not None:
        message = session.get(Message, call.message_id)
        if message is None or message.checkin_id is None:
            return CallTurn("hang_up", "en")
        message.twilio_sid = message.twilio_sid or call.sid
        checkin = session.get(Checkin, message.checkin_id)
        assert checkin is not None
        patient = patients.get_patient(session, checkin.patient_id, lock=True)
        assert patient is not None
        language = patient.language.value
        if call.answered_by in MACHINE_ANSWERS:
            context = checkin_context(patient, checkin.store, checkin, "voice")
            text = dialogs.voicemail(context)
            _add_call_text(session, checkin.store, patient, checkin, text, call)
            return CallTurn("voicemail", language, text=text)
        if call.answered_by == "fax" or patient.opted_out:
            return CallTurn("hang_up", language)
        return _start_call_dialog(session, patient, checkin, call, now)
    store = patients.find_store_for_inbound(session, call.to_number, None, defaults.store_code)
    if store is None:
        return CallTurn("hang_up", "en")
    patient = patients.find_patient_by_phone(session, store.id, call.from_number, lock=True)
    checkin = _open_checkin(session, patient) if patient and not patient.opted_out else None
    if patient is not None and checkin is not None:
        return _start_call_dialog(session, patient, checkin, call, now)
    language = patient.language.value if patient else "en"
    return CallTurn("leave_message", language, text=_leave_message_prompt(store, language))


def _leave_message_prompt(store: Store, language: str) -> str:
    name, phone = store.name, display_phone(store.phone)
    if language == "es":
        return (
            f"Gracias por llamar a {name}. Deje su mensaje para el farmacéutico después del tono."
        )
    return (
        f"Thank you for calling {name}. Please leave a message for the pharmacist after the"
        f" tone. Our number is {phone}."
    )


def _open_checkin(session: Session, patient: Patient) -> Checkin | None:
    conversation = conversations.latest_for_patient(session, patient.id)
    checkin = conversation_checkin(session, conversation)
    if checkin is not None and checkin.status in (
        CheckinStatus.SCHEDULED,
        CheckinStatus.IN_PROGRESS,
    ):
        return checkin
    return None


def _start_call_dialog(
    session: Session, patient: Patient, checkin: Checkin, call: CallAnswered, now: dt.datetime
) -> CallTurn:
    conversation = conversations.for_checkin(session, checkin.id)
    context = checkin_context(patient, checkin.store, checkin, "voice")
    state = dialogs.DialogState.from_json(conversation.data) if conversation else None
    result = dialogs.step(dialogs.CHECKIN, state, dialogs.Start(), context)
    if conversation is None:
        conversation = Conversation(
            patient_id=patient.id,
            checkin_id=checkin.id,
            dialog=dialogs.CHECKIN.name,
            channel=Channel.VOICE,
            node=result.state.node,
            data={},
        )
        session.add(conversation)
    conversation.channel = Channel.VOICE
    _apply_step(session, patient, conversation, checkin, result, None, now, via="voice")
    return _turn(session, patient, checkin, conversation, result, call)


def _turn(
    session: Session,
    patient: Patient,
    checkin: Checkin | None,
    conversation: Conversation,
    result: dialogs.Step,
    call: CallAnswered,
) -> CallTurn:
    spoken = " ".join(sms_texts(result.outputs))
    if spoken:
        _add_call_text(session, patient.store, patient, checkin, spoken, call)
    session.flush()  # the conversation's new version goes into the next action URL
    return CallTurn("dialog", result.language, result.outputs, conversation)


def _add_call_text(
    session: Session,
    store: Store,
    patient: Patient,
    checkin: Checkin | None,
    text: str,
    call: CallAnswered,
) -> None:
    """Record what the call said to the patient, so the transcript shows both sides."""
    ours, theirs = (call.from_number, call.to_number)
    if call.direction == "inbound":
        ours, theirs = theirs, ours
    _add_message(
        session,
        store,
        patient,
        checkin,
        Direction.OUTBOUND,
        Channel.VOICE,
        body=text,
        status="twiml",
        numbers=(ours, theirs),
        purpose=Purpose.REPLY,
    )


@dataclass(frozen=True)
class VoiceInput:
    conversation_id: int
    version: int
    call: CallAnswered
    event: dialogs.Event
    heard: str | None  # what to write in the transcript ("pressed 1", the speech)
    recording_url: str | None = None


def handle_voice_input(session: Session, voice: VoiceInput, now: dt.datetime) -> CallTurn:
    """Run the dialog on a keypress, speech, recording or no-input during a call.

    A stale or repeated action (the version in its URL is not the conversation's) is not
    applied twice: the current question is asked again instead.
    """
    conversation = session.get(Conversation, voice.conversation_id)
    if conversation is None:
        return CallTurn("hang_up", "en")
    patient = patients.get_patient(session, conversation.patient_id, lock=True)
    assert patient is not None
    session.refresh(conversation)
    checkin = conversation_checkin(session, conversation)
    context = checkin_context(patient, patient.store, checkin, "voice")
    state = _state_of(conversation, patient, context)
    inbound = None
    if voice.heard is not None or voice.recording_url is not None:
        inbound = _add_message(
            session,
            patient.store,
            patient,
            checkin,
            Direction.INBOUND,
            Channel.VOICE,
            body=voice.heard,
            recording_url=voice.recording_url,
            status="received",
            numbers=(
                patient.phone,
                voice.call.to_number
                if voice.call.direction == "inbound"
                else voice.call.from_number,
            ),
        )
    if conversation.version != voice.version:
        # Kept in the transcript above; the current question is simply asked again.
        resumed = dialogs.step(dialogs.CHECKIN, state, dialogs.Start(), context)
        asks = tuple(
            o for o in resumed.outputs if isinstance(o, dialogs.AskYesNo | dialogs.AskText)
        )
        return _turn(
            session, patient, checkin, conversation, replace(resumed, outputs=asks), voice.call
        )
    result = dialogs.step(dialogs.CHECKIN, state, voice.event, context)
    _apply_step(session, patient, conversation, checkin, result, inbound, now, via="voice")
    return _turn(session, patient, checkin, conversation, result, voice.call)


def handle_voice_message(
    session: Session, call: CallAnswered, recording_url: str | None, defaults: Defaults
) -> None:
    """Keep a message left for the pharmacist as a queue item with its recording."""
    store = patients.find_store_for_inbound(session, call.to_number, None, defaults.store_code)
    if store is None or recording_url is None:
        return
    patient = patients.find_patient_by_phone(session, store.id, call.from_number, lock=True)
    message = _add_message(
        session,
        store,
        patient,
        None,
        Direction.INBOUND,
        Channel.VOICE,
        body=None,
        recording_url=recording_url,
        status="received",
        numbers=(call.from_number, call.to_number),
    )
    queue.add_item(
        session,
        kind=QueueKind.CONCERN,
        store_id=store.id,
        patient=patient,
        message=message,
        recording_url=recording_url,
        text="voicemail left for the pharmacist",
    )
