"""Patients: lookups for inbound messages and the consent (opt-out) state."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from store.models import (
    OPEN_CHECKIN_STATUSES,
    Checkin,
    CheckinStatus,
    Language,
    Patient,
    Store,
    table_of,
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


# Built once: the webhook runs this on every message, and a prebuilt statement skips the
# construction and cache-key work SQLAlchemy would otherwise redo each time.
_PARTIES_BY_NUMBER = (
    select(Patient, Store)
    .join(Store, Store.id == Patient.store_id)
    .where(Patient.phone == bindparam("phone"), Store.from_number == bindparam("to"))
    .order_by(Patient.id)
    .with_for_update(of=Patient)
)
_PARTIES_BY_SERVICE = (
    select(Patient, Store)
    .join(Store, Store.id == Patient.store_id)
    .where(
        Patient.phone == bindparam("phone"),
        or_(
            Store.from_number == bindparam("to"),
            Store.messaging_service_sid == bindparam("service"),
        ),
    )
    .order_by(Patient.id)
    .with_for_update(of=Patient)
)


def find_inbound_parties(
    session: Session,
    to_number: str,
    messaging_service_sid: str | None,
    from_number: str,
    default_code: str,
) -> tuple[Store | None, Patient | None]:
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
        return rows[0][1], _most_recently_contacted(session, [row[0] for row in rows])
    store = find_store_for_inbound(session, to_number, messaging_service_sid, default_code)
    if store is None:
        return None, None
    candidates = session.scalars(
        select(Patient)
        .where(Patient.store_id == store.id, Patient.phone == from_number)
        .order_by(Patient.id)
        .with_for_update()
    ).all()
    return store, _most_recently_contacted(session, list(candidates))


def _most_recently_contacted(session: Session, candidates: list[Patient]) -> Patient | None:
    """Pick among patients sharing a phone (families do): the one contacted last."""
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    last = func.max(Checkin.last_outreach_at)
    ranked = session.execute(
        select(Checkin.patient_id, last)
        .where(Checkin.patient_id.in_([p.id for p in candidates]))
        .group_by(Checkin.patient_id)
        .order_by(last.desc().nulls_last())
        .limit(1)
    ).first()
    if ranked is None:
        return candidates[0]
    return next(p for p in candidates if p.id == ranked[0])


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
