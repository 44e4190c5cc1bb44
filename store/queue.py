"""The pharmacist queue: items raised by conversations, the scheduler and Twilio."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from store.models import QueueItem, QueueKind, QueueStatus, table_of, utcnow

_INSERT = insert(table_of(QueueItem)).returning(table_of(QueueItem).c.id)


class _Patient(Protocol):
    """A Patient, or the plain values the webhook reads instead (store/patients.py)."""

    @property
    def id(self) -> int: ...


class _Checkin(Protocol):
    """A Checkin, or the plain values the webhook reads instead (store/conversations.py)."""

    @property
    def id(self) -> int: ...

    @property
    def anchor_date(self) -> dt.date: ...


def add_item(
    session: Session,
    *,
    kind: QueueKind,
    store_id: int,
    patient: _Patient | None = None,
    checkin: _Checkin | None = None,
    message_id: int | None = None,
    text: str | None = None,
    recording_url: str | None = None,
    priority: int = 2,
    reason: str | None = None,
    anchor_date: dt.date | None = None,
    medicine_id: int | None = None,
) -> int:
    """Queue an item for staff and return its id; the anchor date comes from the check-in
    (or `anchor_date`, for items of no check-in such as a renewal's)."""
    return int(
        session.execute(
            _INSERT,
            {
                "kind": kind,
                "store_id": store_id,
                "patient_id": patient.id if patient else None,
                "checkin_id": checkin.id if checkin else None,
                "message_id": message_id,
                "anchor_date": checkin.anchor_date if checkin else anchor_date,
                "medicine_id": medicine_id,
                "text": text,
                "recording_url": recording_url,
                "priority": priority,
                "reason": reason[:300] if reason else None,
                "status": QueueStatus.OPEN,
                "created_at": utcnow(),
            },
        ).scalar_one()
    )


def has_item(session: Session, checkin_id: int, kind: QueueKind) -> bool:
    """Tell whether the check-in already has an item of `kind` (open or not)."""
    query = select(QueueItem.id).where(QueueItem.checkin_id == checkin_id, QueueItem.kind == kind)
    return session.scalars(query.limit(1)).first() is not None


def claim(session: Session, item_id: int, user_id: int, now: dt.datetime) -> bool:
    """Claim an open item for `user_id`; tell whether it was open (nobody else got it first)."""
    items = table_of(QueueItem)
    result = session.execute(
        update(items)
        .where(items.c.id == item_id, items.c.status == QueueStatus.OPEN)
        .values(status=QueueStatus.CLAIMED, claimed_by_id=user_id, claimed_at=now)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def release(session: Session, item_id: int, user_id: int) -> bool:
    """Give back an item `user_id` has claimed (it is open again); tell whether they had it."""
    items = table_of(QueueItem)
    result = session.execute(
        update(items)
        .where(
            items.c.id == item_id,
            items.c.status == QueueStatus.CLAIMED,
            items.c.claimed_by_id == user_id,
        )
        .values(status=QueueStatus.OPEN, claimed_by_id=None, claimed_at=None)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def take_over(
    session: Session, item_id: int, user_id: int, from_user_id: int, now: dt.datetime
) -> bool:
    """Move a claim from `from_user_id` to `user_id`; tell whether it was still theirs.

    Conditional on the claimer the caller saw, so two people taking over at once (or the
    claimer releasing meanwhile) leave one winner and a clear refusal for the other.
    """
    items = table_of(QueueItem)
    result = session.execute(
        update(items)
        .where(
            items.c.id == item_id,
            items.c.status == QueueStatus.CLAIMED,
            items.c.claimed_by_id == from_user_id,
        )
        .values(claimed_by_id=user_id, claimed_at=now)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def resolve(
    session: Session,
    item_id: int,
    user_id: int,
    note: str,
    outcome: str | None,
    now: dt.datetime,
) -> bool:
    """Resolve an item that is open or claimed by `user_id`; tell whether it was."""
    items = table_of(QueueItem)
    mine_or_nobodys = (items.c.claimed_by_id.is_(None)) | (items.c.claimed_by_id == user_id)
    result = session.execute(
        update(items)
        .where(items.c.id == item_id, items.c.status != QueueStatus.RESOLVED, mine_or_nobodys)
        .values(
            status=QueueStatus.RESOLVED,
            resolved_by_id=user_id,
            resolved_at=now,
            resolution_note=note,
            outcome=outcome,
            claimed_by_id=func.coalesce(items.c.claimed_by_id, user_id),
            claimed_at=func.coalesce(items.c.claimed_at, now),
        )
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def resolve_patients_items(
    session: Session,
    patient_id: int,
    kind: QueueKind,
    note: str,
    outcome: str,
    now: dt.datetime,
) -> list[int]:
    """Resolve the patient's open or claimed items of `kind` with nobody as the resolver (the
    system did it); return their ids."""
    items = table_of(QueueItem)
    return list(
        session.scalars(
            update(items)
            .where(
                items.c.patient_id == patient_id,
                items.c.kind == kind,
                items.c.status.in_((QueueStatus.OPEN, QueueStatus.CLAIMED)),
            )
            .values(
                status=QueueStatus.RESOLVED,
                resolved_at=now,
                resolution_note=note,
                outcome=outcome,
            )
            .returning(items.c.id)
        )
    )
