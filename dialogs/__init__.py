"""Pure conversation logic for medsync-bot: the refill check-in for SMS and voice, EN and ES.

Nothing in this package performs I/O or imports Flask, SQLAlchemy, Twilio or APScheduler
(tests/unit/test_dialogs_pure.py). The caller persists `DialogState.to_json()`, renders the
outputs of each `Step` per channel, turns findings into queue items and records opt-outs.
"""

from __future__ import annotations

from dialogs.checkin import CHECKIN
from dialogs.context import Channel, Context, Lang
from dialogs.engine import (
    END,
    KINDS,
    PRIORITY_HIGH,
    PRIORITY_NORMAL,
    AskText,
    AskYesNo,
    Dialog,
    DialogState,
    End,
    Event,
    Finding,
    HandOff,
    Outcome,
    Output,
    Reply,
    Say,
    Start,
    Step,
    Timeout,
    step,
)
from dialogs.sms_rules import fits_one_segment, is_gsm7, segment_count
from dialogs.texts import (
    first_message,
    help_text,
    late_reply_ack,
    leave_message,
    opt_in_confirmation,
    opt_out_confirmation,
    reminder,
    unknown_number_reply,
    voicemail,
)
from dialogs.understand import classify_keyword, detect_language, is_revocation

__all__ = [
    "CHECKIN",
    "END",
    "KINDS",
    "PRIORITY_HIGH",
    "PRIORITY_NORMAL",
    "AskText",
    "AskYesNo",
    "Channel",
    "Context",
    "Dialog",
    "DialogState",
    "End",
    "Event",
    "Finding",
    "HandOff",
    "Lang",
    "Outcome",
    "Output",
    "Reply",
    "Say",
    "Start",
    "Step",
    "Timeout",
    "classify_keyword",
    "detect_language",
    "first_message",
    "fits_one_segment",
    "help_text",
    "is_gsm7",
    "is_revocation",
    "late_reply_ack",
    "leave_message",
    "opt_in_confirmation",
    "opt_out_confirmation",
    "reminder",
    "segment_count",
    "step",
    "unknown_number_reply",
    "voicemail",
]
