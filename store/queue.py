"""The pharmacist queue: items raised by conversations, the scheduler and Twilio."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Checkin, Message, Patient, QueueItem, QueueKind, QueueStatus


def add_item(
    session: Session,
    *,
    kind: QueueKind,
    store_id: int,
    patient: Patient | None = None,
    checkin: Checkin | None = None,
    message: Message | None = None,
    text: str | None = None,
    recording_url: str | None = None,
    priority: int = 2,
) -> QueueItem:
    """Queue an item for staff; the anchor date comes from the check-in when there is one."""
    item = QueueItem(
        kind=kind,
        store_id=store_id,
        patient_id=patient.id if patient else None,
        checkin_id=checkin.id if checkin else None,
        message_id=message.id if message else None,
        anchor_date=checkin.anchor_date if checkin else None,
        text=text,
        recording_url=recording_url,
        priority=priority,
        status=QueueStatus.OPEN,
    )
    session.add(item)
    return item


def has_item(session: Session, checkin_id: int, kind: QueueKind) -> bool:
    """Tell whether the check-in already has an item of `kind` (open or not)."""
    query = select(QueueItem.id).where(QueueItem.checkin_id == checkin_id, QueueItem.kind == kind)
    return session.scalars(query.limit(1)).first() is not None
