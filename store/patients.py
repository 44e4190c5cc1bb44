"""Patients: lookups for inbound messages and the consent (opt-out) state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from store.models import (
    OPEN_CHECKIN_STATUSES,
    Checkin,
    CheckinStatus,
    Enrollment,
    Language,
    Patient,
    Store,
    table_of,
)


@dataclass(frozen=True)
class InboundStore:
    """The store a message or call was addressed to, as a dialog turn needs it."""

    id: int
    name: str
    phone: str


@dataclass(frozen=True)
class InboundEnrollment:
    anchor_date: dt.date


@dataclass(frozen=True)
class InboundPatient:
    """The patient writing or calling, as read (with the row locked) at the start of a turn.

    Plain values, not an ORM entity: the webhook reads them on every message and building
    entities (identity map, instance state) cost more than the query. Writes go through the
    UPDATE functions below, by id.
    """

    id: int
    store_id: int
    phone: str
    first_name: str
    language: Language
    phi_ok: bool
    opted_out_at: dt.datetime | None
    enrollment: InboundEnrollment | None

    @property
    def opted_out(self) -> bool:
        return self.opted_out_at is not None


_PATIENTS = table_of(Patient)
_STORES = table_of(Store)
_ENROLLMENTS = table_of(Enrollment)
_STORE_COLUMNS = (_STORES.c.id, _STORES.c.name, _STORES.c.phone)
_PATIENT_COLUMNS = (
    _PATIENTS.c.id,
    _PATIENTS.c.store_id,
    _PATIENTS.c.phone,
    _PATIENTS.c.first_name,
    _PATIENTS.c.language,
    _PATIENTS.c.phi_ok,
    _PATIENTS.c.opted_out_at,
    _ENROLLMENTS.c.anchor_date,
)


def _store_of(row: Row[Any]) -> InboundStore:
    return InboundStore(row.store_id, row.store_name, row.store_phone)


def _patient_of(row: Row[Any]) -> InboundPatient:
    anchor = row.anchor_date
    return InboundPatient(
        id=row.id,
        store_id=row.store_id,
        phone=row.phone,
        first_name=row.first_name,
        language=row.language,
        phi_ok=row.phi_ok,
        opted_out_at=row.opted_out_at,
        enrollment=InboundEnrollment(anchor) if anchor is not None else None,
    )


def _locked_patients(*where: ColumnElement[bool]) -> Select[Any]:
    """Patients (with their enrollment's anchor date and their store), rows locked, by id."""
    return (
        select(
            *_PATIENT_COLUMNS,
            _STORES.c.name.label("store_name"),
            _STORES.c.phone.label("store_phone"),
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
) -> InboundStore | None:
    """Return the store a message to `to_number` (or via that Messaging Service) belongs to."""
    conditions = [_STORES.c.from_number == to_number, _STORES.c.code == default_code]
    if messaging_service_sid:
        conditions.insert(0, _STORES.c.messaging_service_sid == messaging_service_sid)
    for condition in conditions:
        row = session.execute(select(*_STORE_COLUMNS).where(condition).limit(1)).first()
        if row is not None:
            return InboundStore(row.id, row.name, row.phone)
    return None


def find_inbound_parties(
    session: Session,
    to_number: str,
    messaging_service_sid: str | None,
    from_number: str,
    default_code: str,
) -> tuple[InboundStore | None, InboundPatient | None]:
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
) -> InboundPatient | None:
    """Pick among patients sharing a phone (families do): the one contacted last."""
    if len(candidates) <= 1:
        return _patient_of(candidates[0]) if candidates else None
    last = func.max(Checkin.last_outreach_at)
    ranked = session.execute(
        select(Checkin.patient_id, last)
        .where(Checkin.patient_id.in_([row.id for row in candidates]))
        .group_by(Checkin.patient_id)
        .order_by(last.desc().nulls_last())
        .limit(1)
    ).first()
    if ranked is None:
        return _patient_of(candidates[0])
    return _patient_of(next(row for row in candidates if row.id == ranked[0]))


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
    checkins = table_of(Checkin)
    session.execute(
        update(checkins)
        .where(checkins.c.patient_id == patient_id, checkins.c.status.in_(OPEN_CHECKIN_STATUSES))
        .values(status=CheckinStatus.OPTED_OUT, completed_at=now, next_attempt_at=None)
    )
    return True


def opt_in(session: Session, patient_id: int, now: dt.datetime) -> bool:
    """Clear an opt-out (START/UNSTOP); tell whether the patient was opted out."""
    table = table_of(Patient)
    result = session.execute(
        update(table)
        .where(table.c.id == patient_id, table.c.opted_out_at.is_not(None))
        .values(opted_out_at=None, opted_out_via=None, updated_at=now)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def set_language(session: Session, patient_id: int, language: Language, now: dt.datetime) -> None:
    """Remember the language the patient answered in."""
    table = table_of(Patient)
    session.execute(
        update(table).where(table.c.id == patient_id).values(language=language, updated_at=now)
    )
