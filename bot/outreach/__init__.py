"""The use cases, shared by the webhooks, the scheduler and the pharmacist workspace.

Each takes the caller's session and works inside the caller's transaction; the caller commits
(one owner per request or job). The exception is sending (`sending.py`): record the attempt,
commit, call Twilio, record the answer, commit, so a crash leaves a trace and never a second
text (SPEC 7). One module per use case:

    links.py             Urls (callbacks on our public origin) and Defaults (the default sender)
    turn.py              a dialog turn: its read model, the dialog it runs, applying a step
    inbound_sms.py       a patient's text
    calls.py             calls: answered, inbound, keys/speech/recordings, messages, notices
    sending.py           pharmacy-initiated outreach: check-in texts and calls, notices
    status_callbacks.py  Twilio's delivery and call-progress callbacks
    staff_texts.py       staff texting a patient
"""

from __future__ import annotations

from bot.outreach.calls import (
    CallAnswered,
    CallTurn,
    VoiceInput,
    handle_call_answered,
    handle_voice_input,
    handle_voice_message,
    notice_text,
)
from bot.outreach.inbound_sms import InboundSms, handle_inbound_sms
from bot.outreach.links import Defaults, Urls
from bot.outreach.sending import Sent, place_checkin_call, send_checkin_sms, send_notice
from bot.outreach.staff_texts import (
    CannotText,
    NamesMedicine,
    staff_text_prefix,
    text_patient,
    too_long_for_one_text,
)
from bot.outreach.status_callbacks import handle_call_status, handle_message_status
from bot.outreach.turn import sms_texts
from store.models import Purpose

__all__ = [
    "CallAnswered",
    "CallTurn",
    "CannotText",
    "Defaults",
    "InboundSms",
    "NamesMedicine",
    "Purpose",
    "Sent",
    "Urls",
    "VoiceInput",
    "handle_call_answered",
    "handle_call_status",
    "handle_inbound_sms",
    "handle_message_status",
    "handle_voice_input",
    "handle_voice_message",
    "notice_text",
    "place_checkin_call",
    "send_checkin_sms",
    "send_notice",
    "sms_texts",
    "staff_text_prefix",
    "text_patient",
    "too_long_for_one_text",
]
