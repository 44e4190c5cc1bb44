"""What happened for one anchor date, read for an export (bot/fhir/writing.py).

The patients due that day (a check-in for the date, or an active enrollment on it), with their
medicines, the check-ins, the patients' own messages of those check-ins, the queue items of
the day and the fills staff have worked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from store.models import (
    Checkin,
    Direction,
    Enrollment,
    Fill,
    Message,
    Patient,
    QueueItem,
)


@dataclass
class PatientDay:
    patient: Patient
    checkin: Checkin | None = None
    words: list[Message] = field(default_factory=list)  # the patient's, oldest first
    items: list[QueueItem] = field(default_factory=list)
    fill: Fill | None = None


def patients_due(
    session: Session, day: dt.date, store_ids: Collection[int] | None
) -> list[PatientDay]:
    """Every patient due on `day` in those stores (None: all), by store and PMS id."""
    checkins = select(Checkin).where(Checkin.anchor_date == day)
    enrolled = (
        select(Patient)
        .join(Enrollment)
        .where(Enrollment.anchor_date == day, Enrollment.active.is_(True))
    )
    if store_ids is not None:
        checkins = checkins.where(Checkin.store_id.in_(store_ids))
        enrolled = enrolled.where(Patient.store_id.in_(store_ids))
    days: dict[int, PatientDay] = {}
    for checkin in session.scalars(checkins):
        days[checkin.patient_id] = PatientDay(checkin.patient, checkin)
    for patient in session.scalars(enrolled):
        days.setdefault(patient.id, PatientDay(patient))
    if not days:
        return []
    ids = list(days)
    # Medicines, enrollment and store of each patient in one more statement each.
    session.scalars(
        select(Patient)
        .where(Patient.id.in_(ids))
        .options(
            selectinload(Patient.medicines),
            selectinload(Patient.enrollment),
            selectinload(Patient.store),
        )
    ).all()
    checkin_ids = [d.checkin.id for d in days.values() if d.checkin is not None]
    for message in session.scalars(
        select(Message)
        .where(Message.checkin_id.in_(checkin_ids), Message.direction == Direction.INBOUND)
        .order_by(Message.created_at, Message.id)
    ):
        if message.patient_id in days:
            days[message.patient_id].words.append(message)
    for item in session.scalars(
        select(QueueItem)
        .where(
            QueueItem.patient_id.in_(ids),
            or_(QueueItem.checkin_id.in_(checkin_ids), QueueItem.anchor_date == day),
        )
        .order_by(QueueItem.id)
    ):
        assert item.patient_id is not None
        days[item.patient_id].items.append(item)
    for fill in session.scalars(
        select(Fill).where(Fill.anchor_date == day, Fill.patient_id.in_(ids))
    ):
        days[fill.patient_id].fill = fill
    return sorted(days.values(), key=lambda d: (d.patient.store_id, d.patient.external_id))
