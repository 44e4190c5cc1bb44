"""Conversations: the saved dialog state of a check-in."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Conversation


def latest_for_patient(session: Session, patient_id: int) -> Conversation | None:
    """Return the patient's open conversation, else their most recent one, else None."""
    query = (
        select(Conversation)
        .where(Conversation.patient_id == patient_id)
        .order_by(Conversation.done, Conversation.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def for_checkin(session: Session, checkin_id: int) -> Conversation | None:
    """Return the conversation of a check-in, if it has started."""
    query = select(Conversation).where(Conversation.checkin_id == checkin_id)
    return session.scalars(query.order_by(Conversation.id.desc()).limit(1)).first()
