"""Patients: lookups for inbound messages and the consent (opt-out) state."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from store.models import (
    OPEN_CHECKIN_STATUSES,
    Checkin,
    CheckinStatus,
    Patient,
    Store,
)


def find_store_for_inbound(
    session: Session, to_number: str, messaging_service_sid: str | None, default_code: str
) -> Store | None:
    """Return the store a message to `to_number` (or via that Messaging Service) belongs to."""
    if messaging_service_sid:
        store = session.scalars(
            select(Store).where(Store.messaging_service_sid == messaging_service_sid)
        ).first()
        if store is not None:
            return store
    store = session.scalars(select(Store).where(Store.from_number == to_number)).first()
    if store is not None:
        return store
    return session.scalars(select(Store).where(Store.code == default_code)).first()


def find_patient_by_phone(
    session: Session, store_id: int, phone: str, *, lock: bool
) -> Patient | None:
    """Return the patient of `store_id` with this phone, locking the row when asked.

    Families share phones: when several patients have the number, the one contacted most
    recently wins (their check-in is the one the message most likely answers).
    """
    query = (
        select(Patient)
        .where(Patient.store_id == store_id, Patient.phone == phone)
        .outerjoin(Checkin, Checkin.patient_id == Patient.id)
        .order_by(Checkin.last_outreach_at.desc().nulls_last(), Patient.id)
        .limit(1)
    )
    patient = session.scalars(query).first()
    if patient is not None and lock:
        # One reply at a time per patient: concurrent webhooks wait here (PostgreSQL; SQLite
        # already serializes write transactions, see store/db.py).
        session.execute(select(Patient.id).where(Patient.id == patient.id).with_for_update())
        session.refresh(patient)
    return patient


def get_patient(session: Session, patient_id: int, *, lock: bool = False) -> Patient | None:
    """Return the patient with primary key `patient_id`."""
    query = select(Patient).where(Patient.id == patient_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def opt_out(session: Session, patient: Patient, now: dt.datetime, via: str) -> bool:
    """Record an opt-out and close the patient's open check-ins; tell whether it is new."""
    if patient.opted_out_at is not None:
        return False
    patient.opted_out_at = now
    patient.opted_out_via = via
    session.execute(
        update(Checkin)
        .where(Checkin.patient_id == patient.id, Checkin.status.in_(OPEN_CHECKIN_STATUSES))
        .values(status=CheckinStatus.OPTED_OUT, completed_at=now, next_attempt_at=None)
        .execution_options(synchronize_session="fetch")
    )
    return True


def opt_in(patient: Patient) -> bool:
    """Clear an opt-out (START/UNSTOP); tell whether the patient was opted out."""
    if patient.opted_out_at is None:
        return False
    patient.opted_out_at = None
    patient.opted_out_via = None
    return True
