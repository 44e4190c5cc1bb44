"""The welcome text's queries (scheduler/welcome.py): who is due one, their recent outreach,
and the claim that makes it a once-only text.

Functions only query and write; the scheduler job owns the transactions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from store.checkins import was_refused
from store.models import (
    OUTREACH_PURPOSES,
    Direction,
    Enrollment,
    Message,
    Patient,
    Store,
    table_of,
)
from store.roster import welcome_due


@dataclass(frozen=True)
class DueWelcome:
    """A patient who may be due a welcome, with what the window check needs."""

    patient_id: int
    zone: str
    window_start_minute: int
    window_end_minute: int


def list_due_welcomes(session: Session, *, after: int, limit: int) -> list[DueWelcome]:
    """Patients with accepted consent not welcomed yet, not opted out, actively enrolled, by id
    from `after`. The caller checks, with the row locked, everything that depends on the day
    (consent in effect, a pause): `roster.status_of`."""
    query = (
        select(
            Patient.id,
            func.coalesce(Patient.timezone, Store.timezone),
            Store.window_start_minute,
            Store.window_end_minute,
        )
        .join(Store, Store.id == Patient.store_id)
        .join(Enrollment, Enrollment.patient_id == Patient.id)
        .where(
            welcome_due(),
            Patient.opted_out_at.is_(None),
            Enrollment.active.is_(True),
            Patient.id > after,
        )
        .order_by(Patient.id)
        .limit(limit)
    )
    return [DueWelcome(*row) for row in session.execute(query)]


def recent_outreach(session: Session, patient_id: int, since: dt.datetime) -> list[dt.datetime]:
    """When the patient was sent pharmacy-initiated outreach since `since` (what the caps
    count: all channels and check-ins, but requests Twilio refused outright)."""
    rows = session.execute(
        select(Message.created_at, Message.status, Message.twilio_sid).where(
            and_(
                Message.patient_id == patient_id,
                Message.direction == Direction.OUTBOUND,
                Message.purpose.in_(OUTREACH_PURPOSES),
                Message.created_at > since,
            )
        )
    ).all()
    return [row.created_at for row in rows if not was_refused(row.status, row.twilio_sid)]


def claim_welcome(session: Session, patient_id: int, now: dt.datetime) -> bool:
    """Mark the patient welcomed unless someone did; tell whether this caller did.

    Set before the text is recorded and sent, in the same commit: a second scheduler, or this
    one after a crash, never sends a second welcome.
    """
    table = table_of(Patient)
    result = session.execute(
        update(table)
        .where(table.c.id == patient_id, table.c.welcomed_at.is_(None))
        .values(welcomed_at=now, updated_at=now)
    )
    return int(getattr(result, "rowcount", 0)) == 1
