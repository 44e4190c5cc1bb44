"""Twilio's status callbacks for messages and calls (statuses never move backwards)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.outreach.sending import act_on_error
from store import messages


def handle_message_status(
    session: Session, sid: str, status: str, error_code: int | None, now: dt.datetime
) -> bool:
    """Apply a message status callback; tell whether it changed anything."""
    message = messages.get_by_sid(session, sid)
    if message is None or not messages.advance_status(message, status, error_code):
        return False
    act_on_error(
        session,
        message.id,
        message.patient_id,
        message.checkin_id,
        message.channel,
        error_code,
        now,
    )
    return True


def handle_call_status(
    session: Session, sid: str, status: str, sequence: int | None, now: dt.datetime
) -> bool:
    """Apply a call-progress event in SequenceNumber order; tell whether it was new."""
    message = messages.get_by_sid(session, sid)
    return message is not None and messages.apply_call_event(message, status, sequence)
