"""Plain factory functions with sensible defaults (override what a test is about)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from store.models import (
    Channel,
    Checkin,
    CheckinStatus,
    Enrollment,
    Language,
    Medicine,
    MedType,
    Patient,
    Store,
)

STORE_NUMBER = "+12025550100"


def make_store(session: Session, code: str = "main", **overrides: Any) -> Store:
    values: dict[str, Any] = {
        "name": "Main Street Pharmacy",
        "phone": "+12025550199",
        "timezone": "America/New_York",
        "from_number": STORE_NUMBER,
    }
    values.update(overrides)
    store = Store(code=code, **values)
    session.add(store)
    session.flush()
    return store


def make_patient(
    session: Session,
    store: Store,
    external_id: str = "P1",
    *,
    anchor_date: dt.date = dt.date(2026, 12, 7),
    **overrides: Any,
) -> Patient:
    values: dict[str, Any] = {
        "first_name": "Ana",
        "last_name": "Lopez",
        "phone": "+12025550143",
        "language": Language.EN,
        "channel": Channel.SMS,
        "consent_date": dt.date(2026, 1, 2),
    }
    values.update(overrides)
    patient = Patient(store_id=store.id, external_id=external_id, **values)
    patient.enrollment = Enrollment(anchor_date=anchor_date, cycle_days=30)
    patient.medicines = [
        Medicine(name="Metformin 500 mg", med_type=MedType.MAINTENANCE, days_supply=30),
        Medicine(name="Albuterol HFA", med_type=MedType.PRN),
    ]
    session.add(patient)
    session.flush()
    return patient


def make_checkin(
    session: Session, patient: Patient, *, status: CheckinStatus = CheckinStatus.SCHEDULED
) -> Checkin:
    assert patient.enrollment is not None
    checkin = Checkin(
        enrollment_id=patient.enrollment.id,
        patient_id=patient.id,
        store_id=patient.store_id,
        anchor_date=patient.enrollment.anchor_date,
        channel=patient.channel,
        status=status,
    )
    session.add(checkin)
    session.flush()
    return checkin
