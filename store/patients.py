"""Patients: lookups for inbound messages and the consent (opt-out) state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, bindparam, case, func, or_, select, update
from sqlalchemy.orm import Session

from store import fills
from store.checkins import close_open_checkins
from store.models import (
    OPEN_CHECKIN_STATUSES,
    Checkin,
    CheckinStatus,
    Delivery,
    Enrollment,
    Language,
    Patient,
    Store,
    table_of,
)
from store.turns import TurnEnrollment, TurnPatient, TurnStore

_PATIENTS = table_of(Patient)
_STORES = table_of(Store)
_ENROLLMENTS = table_of(Enrollment)
_STORE_COLUMNS = (
    _STORES.c.id.label("store_id"),
    _STORES.c.name.label("store_name"),
    _STORES.c.phone.label("store_phone"),
    _STORES.c.timezone.label("store_timezone"),
    _STORES.c.checkin_form.label("store_form"),
    _STORES.c.hours.label("store_hours"),
    _STORES.c.from_number.label("store_from_number"),
    _STORES.c.messaging_service_sid.label("store_service_sid"),
)
_PATIENT_COLUMNS = (
    _PATIENTS.c.id,
    _PATIENTS.c.store_id,
    _PATIENTS.c.phone,
    _PATIENTS.c.first_name,
    _PATIENTS.c.language,
    _PATIENTS.c.phi_ok,
    _PATIENTS.c.opted_out_at,
    _PATIENTS.c.consent_date,
    _ENROLLMENTS.c.anchor_date,
    _ENROLLMENTS.c.checkin_form.label("enrollment_form"),
)


def _store_of(row: Row[Any]) -> TurnStore:
    return TurnStore(
        row.store_id,
        row.store_name,
        row.store_phone,
        row.store_timezone,
        row.store_form,
        row.store_hours,
        row.store_from_number,
        row.store_service_sid,
    )


def _patient_of(row: Row[Any]) -> TurnPatient:
    anchor = row.anchor_date
    return TurnPatient(
        id=row.id,
        store_id=row.store_id,
        phone=row.phone,
        first_name=row.first_name,
        language=row.language,
        phi_ok=row.phi_ok,
        opted_out_at=row.opted_out_at,
        consent_date=row.consent_date,
        enrollment=TurnEnrollment(anchor, row.enrollment_form) if anchor is not None else None,
        shared_phone=bool(row.shared_phone),
    )


_HOUSEHOLD = table_of(Patient).alias("household")
# Whether another patient of the store has this number (a household, a caregiver): then every
# text names whom it is about, and the patients' check-ins run one at a time.
_SHARED = (
    select(_HOUSEHOLD.c.id)
    .where(
        _HOUSEHOLD.c.store_id == _PATIENTS.c.store_id,
        _HOUSEHOLD.c.phone == _PATIENTS.c.phone,
        _HOUSEHOLD.c.id != _PATIENTS.c.id,
    )
    .exists()
    .label("shared_phone")
)


def _locked_patients(*where: ColumnElement[bool]) -> Select[Any]:
    """Patients (with their enrollment's anchor date and their store), rows locked, by id."""
    return (
        select(
            *_PATIENT_COLUMNS,
            *_STORE_COLUMNS[1:],
            _SHARED,
        )
        .select_from(_PATIENTS)
        .join(_STORES, _STORES.c.id == _PATIENTS.c.store_id)
        .outerjoin(_ENROLLMENTS, _ENROLLMENTS.c.patient_id == _PATIENTS.c.id)
        .where(*where)
        .order_by(_PATIENTS.c.id)
        .with_for_update(of=_PATIENTS)
    )


# Built once: the webhook runs one of these on every message, and a prebuilt statement skips
# the construction and cache-key work SQLAlchemy would otherwise redo each time.
_PARTIES_BY_NUMBER = _locked_patients(
    _PATIENTS.c.phone == bindparam("phone"), _STORES.c.from_number == bindparam("to")
)
_PARTIES_BY_SERVICE = _locked_patients(
    _PATIENTS.c.phone == bindparam("phone"),
    or_(
        _STORES.c.from_number == bindparam("to"),
        _STORES.c.messaging_service_sid == bindparam("service"),
    ),
)
_PATIENTS_OF_STORE = _locked_patients(
    _PATIENTS.c.store_id == bindparam("store_id"), _PATIENTS.c.phone == bindparam("phone")
)


def find_store_for_inbound(
    session: Session, to_number: str, messaging_service_sid: str | None, default_code: str
) -> TurnStore | None:
    """Return the store a message to `to_number` (or via that Messaging Service) belongs to."""
    conditions = [_STORES.c.from_number == to_number, _STORES.c.code == default_code]
    if messaging_service_sid:
        conditions.insert(0, _STORES.c.messaging_service_sid == messaging_service_sid)
    for condition in conditions:
        row = session.execute(select(*_STORE_COLUMNS).where(condition).limit(1)).first()
        if row is not None:
            return _store_of(row)  # type: ignore[arg-type]
    return None


def find_inbound_parties(
    session: Session,
    to_number: str,
    messaging_service_sid: str | None,
    from_number: str,
    default_code: str,
) -> tuple[TurnStore | None, TurnPatient | None]:
    """Return the store written to and the patient writing, with the patient's row locked.

    One reply at a time per patient: concurrent webhooks for the same patient wait on the row
    lock (PostgreSQL; SQLite serializes write transactions anyway, see store/db.py). The usual
    case, a store's own number and one patient with that phone, takes a single query.
    """
    query = _PARTIES_BY_SERVICE if messaging_service_sid else _PARTIES_BY_NUMBER
    rows = session.execute(
        query, {"phone": from_number, "to": to_number, "service": messaging_service_sid}
    ).all()
    if rows:
        return _store_of(rows[0]), _most_recently_contacted(session, rows)
    store = find_store_for_inbound(session, to_number, messaging_service_sid, default_code)
    if store is None:
        return None, None
    candidates = session.execute(
        _PATIENTS_OF_STORE, {"store_id": store.id, "phone": from_number}
    ).all()
    return store, _most_recently_contacted(session, candidates)


def _most_recently_contacted(
    session: Session, candidates: Sequence[Row[Any]]
) -> TurnPatient | None:
    """Pick among patients sharing a phone (families do) the one whose check-in asked: an open
    check-in first (they run one at a time), then the one contacted last."""
    if len(candidates) <= 1:
        return _patient_of(candidates[0]) if candidates else None
    last = func.max(Checkin.last_outreach_at)
    open_ = func.max(case((Checkin.status.in_(OPEN_CHECKIN_STATUSES), 1), else_=0))
    ranked = session.execute(
        select(Checkin.patient_id)
        .where(Checkin.patient_id.in_([row.id for row in candidates]))
        .group_by(Checkin.patient_id)
        .order_by(open_.desc(), last.desc().nulls_last())
        .limit(1)
    ).first()
    if ranked is None:
        return _patient_of(candidates[0])
    return _patient_of(next(row for row in candidates if row.id == ranked[0]))


def lock_for_turn(session: Session, patient_id: int) -> tuple[TurnStore, TurnPatient] | None:
    """Read a patient and their store for a turn, the patient's row locked (one statement)."""
    row = session.execute(_locked_patients(_PATIENTS.c.id == patient_id)).first()
    return (_store_of(row), _patient_of(row)) if row is not None else None


def get_patient(session: Session, patient_id: int, *, lock: bool = False) -> Patient | None:
    """Return the patient with primary key `patient_id`."""
    query = select(Patient).where(Patient.id == patient_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def opt_out(session: Session, patient_id: int, now: dt.datetime, via: str) -> bool:
    """Record an opt-out and close the patient's open check-ins; tell whether it is new."""
    table = table_of(Patient)
    result = session.execute(
        update(table)
        .where(table.c.id == patient_id, table.c.opted_out_at.is_(None))
        .values(opted_out_at=now, opted_out_via=via, updated_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    close_open_checkins(session, patient_id, CheckinStatus.OPTED_OUT, now)
    return True


@dataclass(frozen=True)
class Household:
    """Who else shares the phone of a patient who opted out (a household, a caregiver)."""

    id: int


def opt_out_number(
    session: Session, patient_id: int, now: dt.datetime, via: str
) -> tuple[bool, list[Household]]:
    """Opt out the patient and every other patient of their store on the same phone.

    STOP is the number's word, not one patient's: a household that shares a phone gets
    nothing more until it texts START (SPEC 8). Return whether the patient's own opt-out is
    new, and the others newly opted out (their open check-ins closed too).
    """
    new = opt_out(session, patient_id, now, via)
    table = table_of(Patient)
    same_phone = select(table.c.store_id, table.c.phone).where(table.c.id == patient_id).subquery()
    others = session.scalars(
        update(table)
        .where(
            table.c.store_id == same_phone.c.store_id,
            table.c.phone == same_phone.c.phone,
            table.c.id != patient_id,
            table.c.opted_out_at.is_(None),
        )
        .values(opted_out_at=now, opted_out_via=f"{via} (shared phone)"[:32], updated_at=now)
        .returning(table.c.id)
    ).all()
    for other in others:
        close_open_checkins(session, other, CheckinStatus.OPTED_OUT, now)
    return new, [Household(other) for other in sorted(others)]


def opt_in_number(session: Session, patient_id: int, now: dt.datetime) -> list[int]:
    """START from a phone: clear the opt-out of every patient of the store on it (it opted
    out as a number, `opt_out_number`); return the ids that were opted out, the patient's
    own first."""
    table = table_of(Patient)
    same_phone = select(table.c.store_id, table.c.phone).where(table.c.id == patient_id).subquery()
    cleared = session.scalars(
        update(table)
        .where(
            table.c.store_id == same_phone.c.store_id,
            table.c.phone == same_phone.c.phone,
            table.c.opted_out_at.is_not(None),
        )
        .values(opted_out_at=None, opted_out_via=None, updated_at=now)
        .returning(table.c.id)
    ).all()
    return sorted(cleared, key=lambda found: (found != patient_id, found))


def set_language(session: Session, patient_id: int, language: Language, now: dt.datetime) -> None:
    """Remember the language the patient answered in."""
    table = table_of(Patient)
    session.execute(
        update(table).where(table.c.id == patient_id).values(language=language, updated_at=now)
    )


def set_delivery(session: Session, patient_id: int, delivery: Delivery, now: dt.datetime) -> None:
    """Remember whether the patient picks up or wants delivery (they said so, or staff did)."""
    table = table_of(Patient)
    session.execute(
        update(table).where(table.c.id == patient_id).values(delivery=delivery, updated_at=now)
    )
    # The fills not yet collected follow the choice (SPEC 13: delivery fills end delivered).
    fills.follow_patient_delivery(session, patient_id, delivery, now)
