"""POST /twilio/voice and its actions: answer, gather, record, message, status."""

from __future__ import annotations

from flask import Response, request
from werkzeug.exceptions import BadRequest

import dialogs
from bot import outreach, render
from bot.extensions import db_session
from bot.webhooks import (
    bp,
    defaults,
    field,
    int_arg,
    int_field,
    twilio_request,
    twiml,
    urls,
    words,
)
from store.models import utcnow


def _call() -> outreach.CallAnswered:
    return outreach.CallAnswered(
        sid=field("CallSid"),
        from_number=field("From", max_len=20),
        to_number=field("To", max_len=20),
        direction=field("Direction", required=False, max_len=20) or "inbound",
        answered_by=field("AnsweredBy", required=False, max_len=40) or None,
        message_id=int_arg("m"),
    )


def _render(turn: outreach.CallTurn) -> Response:
    if turn.kind == "dialog" and turn.conversation_id is not None:
        links, ids = urls(), (turn.conversation_id, turn.version)
        return twiml(
            render.voice_twiml(
                turn.outputs,
                turn.language,
                gather_url=links.voice_step("gather", *ids),
                record_url=links.voice_step("record", *ids),
                no_input_url=links.voice_step("gather", *ids, no_input=True),
                no_recording_url=links.voice_step("record", *ids, no_input=True),
                dialed_url=links.voice_step("dialed", *ids),
            )
        )
    if turn.kind == "voicemail" and turn.text:
        return twiml(render.say_and_hang_up(turn.text, turn.language))
    if turn.kind == "leave_message" and turn.text and turn.closing:
        return twiml(
            render.leave_message(turn.text, turn.closing, turn.language, urls().voice_message)
        )
    return twiml(render.hang_up())


@bp.post("/voice")
@twilio_request
def answered() -> Response:
    """A check-in call was answered (AnsweredBy from AMD), or a patient is calling us."""
    session = db_session()
    turn = outreach.handle_call_answered(session, _call(), utcnow(), defaults())
    session.commit()
    return _render(turn)


def _step_ids() -> tuple[int, int]:
    conversation_id, version = int_arg("c"), int_arg("v", low=0)
    if conversation_id is None or version is None:
        raise BadRequest("missing conversation id or version")
    return conversation_id, version


@bp.post("/voice/gather")
@twilio_request
def gathered() -> Response:
    """A keypress or speech answered a question (or, with timeout=1, nothing did)."""
    conversation_id, version = _step_ids()
    digits = field("Digits", required=False, max_len=20) or None
    speech = words("SpeechResult") or None
    confidence = _confidence(request.form.get("Confidence"))
    if request.args.get("timeout") or not (digits or speech):
        event: dialogs.Event = dialogs.Timeout()
        heard = None
    else:
        event = dialogs.Reply(digits=digits, speech=speech, confidence=confidence)
        heard = speech  # a keypress is written as words by the use case ("pressed 0: ...")
    voice = outreach.VoiceInput(conversation_id, version, _call(), event, heard)
    return _step(voice)


@bp.post("/voice/record")
@twilio_request
def recorded() -> Response:
    """A details answer was recorded (or, with timeout=1, nothing was)."""
    conversation_id, version = _step_ids()
    url = field("RecordingUrl", required=False, max_len=500) or None
    transcript = words("TranscriptionText") or None
    if request.args.get("timeout") or url is None:
        event: dialogs.Event = dialogs.Timeout()
    else:
        event = dialogs.Reply(text=transcript, recording_url=url)
    voice = outreach.VoiceInput(
        conversation_id,
        version,
        _call(),
        event,
        transcript,
        recording_url=url,
        recording_sid=field("RecordingSid", required=False) or None,
    )
    return _step(voice)


def _step(voice: outreach.VoiceInput) -> Response:
    session = db_session()
    turn = outreach.handle_voice_input(session, voice, utcnow())
    session.commit()
    return _render(turn)


def _confidence(raw: str | None) -> float | None:
    try:
        value = float(raw) if raw else None
    except ValueError:
        return None
    return value if value is not None and 0.0 <= value <= 1.0 else None


@bp.post("/voice/dialed")
@twilio_request
def dialed() -> Response:
    """The <Dial> to the pharmacy ended: talked to someone (hang up), or nobody answered
    (the caller leaves a message for a call back)."""
    conversation_id, version = _step_ids()
    outcome = field("DialCallStatus", required=False, max_len=20).lower()
    if outcome == "completed":
        return twiml(render.hang_up())
    voice = outreach.VoiceInput(conversation_id, version, _call(), dialogs.TransferFailed(), None)
    return _step(voice)


@bp.post("/voice/notice")
@twilio_request
def notice() -> Response:
    """A notice call (refills ready, welcome) was answered: say it, to a person or a machine
    alike (its words are PHI-free), and hang up."""
    message_id = int_arg("m")
    said = outreach.notice_text(db_session(), message_id) if message_id else None
    if said is None:
        return twiml(render.hang_up())
    return twiml(render.say_and_hang_up(*said))


@bp.post("/voice/message")
@twilio_request
def message_left() -> Response:
    """A caller without an open check-in left a message for the pharmacist."""
    session = db_session()
    url = field("RecordingUrl", required=False, max_len=500) or None
    recording_sid = field("RecordingSid", required=False) or None
    outreach.handle_voice_message(session, _call(), url, utcnow(), defaults(), recording_sid)
    session.commit()
    return twiml(render.hang_up())


@bp.post("/voice/status")
@twilio_request
def call_status() -> Response:
    """Apply a call-progress event in SequenceNumber order."""
    session = db_session()
    outreach.handle_call_status(
        session,
        field("CallSid"),
        field("CallStatus", max_len=20).lower(),
        int_field("SequenceNumber"),
        utcnow(),
    )
    session.commit()
    return Response(status=204)
