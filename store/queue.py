"""The pharmacist queue: items raised by conversations, the scheduler and Twilio."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from store.models import Checkin, Patient, QueueItem, QueueKind, QueueStatus, table_of, utcnow

_INSERT = insert(table_of(QueueItem)).returning(table_of(QueueItem).c.id)


def add_item(
    session: Session,
    *,
    kind: QueueKind,
    store_id: int,
    patient: Patient | None = None,
    checkin: Checkin | None = None,
    message_id: int | None = None,
    text: str | None = None,
    recording_url: str | None = None,
    priority: int = 2,
) -> int:
    """Queue an item for staff and return its id; the anchor date comes from the check-in."""
    return int(
        session.execute(
            _INSERT,
            {
                "kind": kind,
                "store_id": store_id,
                "patient_id": patient.id if patient else None,
                "checkin_id": checkin.id if checkin else None,
                "message_id": message_id,
                "anchor_date": checkin.anchor_date if checkin else None,
                "text": text,
                "recording_url": recording_url,
                "priority": priority,
                "status": QueueStatus.OPEN,
                "created_at": utcnow(),
            },
        ).scalar_one()
    )


def has_item(session: Session, checkin_id: int, kind: QueueKind) -> bool:
    """Tell whether the check-in already has an item of `kind` (open or not)."""
    query = select(QueueItem.id).where(QueueItem.checkin_id == checkin_id, QueueItem.kind == kind)
    return session.scalars(query.limit(1)).first() is not None
