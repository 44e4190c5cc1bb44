"""Calls: an answered check-in call, an inbound call, keypresses, speech and recordings,
a message left for the pharmacist, a transfer that nobody picked up, and spoken notices."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

import dialogs
from bot import metrics
from bot.outreach.links import Defaults
from bot.outreach.turn import Turn, apply_step, checkin_context, open_turn, sms_texts, state_of
from store import conversations, messages, patients, queue
from store.models import (
    Channel,
    Checkin,
    CheckinStatus,
    Conversation,
    Direction,
    Message,
    Purpose,
    QueueKind,
)
from store.turns import TurnCheckin, TurnConversation, TurnPatient, TurnStore
from store.validate import display_phone

# Answers of Twilio's answering machine detection that mean "leave a voicemail".
MACHINE_ANSWERS = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other")


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
    if call.message_id is None:
        return _answer_inbound_call(session, call, now, defaults)
    message = session.get(Message, call.message_id)
    if message is None or message.checkin_id is None or not _call_is_ours(session, message, call):
        return CallTurn("hang_up", "en")
    checkin = session.get(Checkin, message.checkin_id)
    parties = patients.lock_for_turn(session, message.patient_id or 0)
    if checkin is None or parties is None:
        return CallTurn("hang_up", "en")
    store, patient = parties
    language = patient.language.value
    if call.answered_by in MACHINE_ANSWERS:
        turn = open_turn(store, patient, TurnCheckin.of(checkin), None, Channel.VOICE)
        text = dialogs.voicemail(checkin_context(turn, now))
        _record_said(session, turn, call, text, now)
        return CallTurn("voicemail", language, text=text)
    if call.answered_by == "fax" or patient.opted_out:
        return CallTurn("hang_up", language)
    return _start_call_dialog(session, store, patient, TurnCheckin.of(checkin), call, now)


def _call_is_ours(session: Session, message: Message, call: CallAnswered) -> bool:
    """Tell whether the call can be the one placed as `message`, and note its SID when
    Twilio's answer to placing it was lost (the message has none yet).

    A SID already held by another message is not this call's: the request contradicts the
    transcript (it would also break the unique SID), so the call is hung up on.
    """
    if message.twilio_sid is not None:
        return True
    holder = messages.get_by_sid(session, call.sid)
    if holder is not None:
        return holder.id == message.id
    message.twilio_sid = call.sid
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
    if patient is not None and not patient.opted_out:
        _, checkin = conversations.latest_for_patient(session, patient.id)
        if checkin is not None and checkin.status in (
            CheckinStatus.SCHEDULED,
            CheckinStatus.IN_PROGRESS,
        ):
            return _start_call_dialog(session, store, patient, checkin, call, now, inbound=True)
    language = patient.language.value if patient else "en"
    prompt, goodbye = dialogs.leave_message(store.name, display_phone(store.phone), language)
    return CallTurn("leave_message", language, text=prompt, closing=goodbye)


def _start_call_dialog(
    session: Session,
    store: TurnStore,
    patient: TurnPatient,
    checkin: TurnCheckin,
    call: CallAnswered,
    now: dt.datetime,
    *,
    inbound: bool = False,
) -> CallTurn:
    found = conversations.for_checkin(session, checkin.id)
    conversation = TurnConversation.of(found) if found else None
    turn = open_turn(store, patient, checkin, conversation, Channel.VOICE)
    context = checkin_context(turn, now, inbound_call=inbound)
    state = dialogs.DialogState.from_json(conversation.data) if conversation else None
    result = dialogs.step(turn.dialog, state, dialogs.Start(), context)
    apply_step(session, turn, result, None, now, via="voice")
    return _call_turn(session, turn, result, call, now)


def _call_turn(
    session: Session, turn: Turn, result: dialogs.Step, call: CallAnswered, now: dt.datetime
) -> CallTurn:
    spoken = " ".join(sms_texts(result.outputs))
    if spoken:
        _record_said(session, turn, call, spoken, now)
    return CallTurn("dialog", result.language, result.outputs, turn.conversation_id, turn.version)


def _record_said(
    session: Session, turn: Turn, call: CallAnswered, text: str, now: dt.datetime
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
    heard: str | None  # the speech, or None for a keypress (described by the dialog)
    recording_url: str | None = None
    recording_sid: str | None = None  # Twilio's RecordingSid: a repeated delivery has the same


def handle_voice_input(session: Session, voice: VoiceInput, now: dt.datetime) -> CallTurn:
    """Run the dialog on a keypress, speech, recording, no-input or a transfer nobody took.

    A stale or repeated action (the version in its URL is not the conversation's) is not
    applied twice: it is kept in the transcript and the current question is asked again.
    """
    found = session.get(Conversation, voice.conversation_id)
    if found is None:
        return CallTurn("hang_up", "en")
    parties = patients.lock_for_turn(session, found.patient_id)
    if parties is None:
        return CallTurn("hang_up", "en")
    session.refresh(found)  # read after the lock: a concurrent step may have moved it
    store, patient = parties
    checkin = session.get(Checkin, found.checkin_id) if found.checkin_id else None
    conversation = TurnConversation.of(found)
    turn = open_turn(
        store, patient, TurnCheckin.of(checkin) if checkin else None, conversation, Channel.VOICE
    )
    context = checkin_context(turn, now)
    state = state_of(conversation, turn, context)
    inbound_id, repeated = _record_heard(session, turn, voice, state, now)
    if repeated or found.version != voice.version:
        if state is None:
            return CallTurn("hang_up", context.language)
        resumed = dialogs.ask_again(turn.dialog, state, context)
        return _call_turn(session, turn, resumed, voice.call, now)
    result = dialogs.step(turn.dialog, state, voice.event, context)
    apply_step(session, turn, result, inbound_id, now, via="voice")
    return _call_turn(session, turn, result, voice.call, now)


def _record_heard(
    session: Session,
    turn: Turn,
    voice: VoiceInput,
    state: dialogs.DialogState | None,
    now: dt.datetime,
) -> tuple[int | None, bool]:
    """Keep what the caller said or pressed in the transcript, a key as words for staff
    ("pressed 0: asked for a pharmacist"); a recording once. Return its id and whether it
    was a repeated delivery."""
    heard = voice.heard
    event = voice.event
    if isinstance(event, dialogs.Reply) and event.digits and not event.speech:
        node = state.node if state else None
        heard = dialogs.describe_keypress(turn.dialog, node, event.digits)
    if heard is None and voice.recording_url is None:
        return None, False
    said = turn.message(
        Direction.INBOUND,
        voice.call.our_number,
        heard,
        recording_url=voice.recording_url,
        status="received",
    )
    if voice.recording_sid is None:
        metrics.count_reply(Channel.VOICE.value)
        return messages.record(session, now=now, **said), False
    inbound_id = messages.record_once(session, voice.recording_sid, now=now, **said)
    if inbound_id is not None:
        metrics.count_reply(Channel.VOICE.value)
    return inbound_id, inbound_id is None


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


def notice_text(session: Session, message_id: int) -> tuple[str, str] | None:
    """The words of a notice call (refills ready, welcome), and their language; None if the
    message is not a notice we placed as a call."""
    message = session.get(Message, message_id)
    if (
        message is None
        or message.channel is not Channel.VOICE
        or message.direction is not Direction.OUTBOUND
        or message.purpose not in (Purpose.READY, Purpose.PICKUP_REMINDER, Purpose.WELCOME)
        or not message.body
    ):
        return None
    parties = patients.lock_for_turn(session, message.patient_id or 0)
    language = parties[1].language.value if parties else "en"
    return message.body, language
