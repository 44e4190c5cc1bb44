"""The patient roster (SPEC 14): who is enrolled, search, households, whom to welcome.

A patient's roster status is defined once, as one SQL expression (`status_expression`): the
patients page filters by it, the API reports it, the patient page shows it and the importer
counts with it, so no two of them can disagree. Every query takes the caller's store ids.

Paging is by keyset on (last name, first name, id), the order the page shows, so page 200 of
a 100,000-patient store costs what page 1 does.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    case,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from store.models import ConsentState, Enrollment, Patient, Store
from store.validate import normalize_phone


class RosterStatus(enum.StrEnum):
    """SPEC 5.3's `status` of `GET /api/patients`, one per patient."""

    ENROLLED = "enrolled"
    NOT_CONSENTED = "not_consented"
    OPTED_OUT = "opted_out"
    PAUSED = "paused"
    DISENROLLED = "disenrolled"


STATUS_LABELS = {
    RosterStatus.ENROLLED: "Enrolled",
    RosterStatus.NOT_CONSENTED: "Not consented",
    RosterStatus.OPTED_OUT: "Opted out",
    RosterStatus.PAUSED: "Paused",
    RosterStatus.DISENROLLED: "Disenrolled",
}


def status_expression(today: dt.date) -> ColumnElement[str]:
    """The patient's roster status on local `today`, first match wins (needs the outer join
    of the patient's enrollment, as `_roster_select` makes):

    * opted_out: the patient texted STOP (or Twilio said so); nothing is sent whatever else;
    * disenrolled: staff ended the enrollment;
    * not_consented: no outreach consent in effect (never asked, declined, or a consent date
      still ahead), or no enrollment yet;
    * paused: an enrollment paused until a later date (the scheduler's rule,
      scheduler.policy.paused: nothing is sent before `paused_until`);
    * enrolled: everything else: contacted for each fill.
    """
    return case(
        (Patient.opted_out_at.is_not(None), RosterStatus.OPTED_OUT.value),
        (Enrollment.active.is_(False), RosterStatus.DISENROLLED.value),
        (
            or_(
                Enrollment.id.is_(None),
                Patient.consent_date.is_(None),
                Patient.consent_date > today,
            ),
            RosterStatus.NOT_CONSENTED.value,
        ),
        (
            and_(Enrollment.paused_until.is_not(None), Enrollment.paused_until > today),
            RosterStatus.PAUSED.value,
        ),
        else_=RosterStatus.ENROLLED.value,
    )


def welcome_due() -> ColumnElement[bool]:
    """Accepted consent (staff's or the import's), not welcomed yet, not waiting for review.

    With `status_expression(today) == 'enrolled'` this is who gets the welcome text
    (scheduler/welcome.py) and whom the importer counts as contacted at the next pass.
    Patients consented before consent states were recorded (state None) are not welcomed:
    they have been getting check-ins already.
    """
    return and_(
        Patient.consent_state == ConsentState.ACCEPTED,
        Patient.welcomed_at.is_(None),
        Patient.needs_review.is_(False),
    )


@dataclass(frozen=True)
class RosterRow:
    """One line of the roster: enough to tell two Maria Garcias apart."""

    id: int
    external_id: str
    first_name: str
    last_name: str
    birth_date: dt.date | None
    phone: str
    store_code: str
    status: RosterStatus
    needs_review: bool
    anchor_date: dt.date | None
    consent_state: ConsentState | None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def enrolled(self) -> bool:
        return self.status is RosterStatus.ENROLLED


def _roster_select(today: dt.date) -> Select[Any]:
    columns: tuple[Any, ...] = (
        Patient.id,
        Patient.external_id,
        Patient.first_name,
        Patient.last_name,
        Patient.birth_date,
        Patient.phone,
        Store.code,
        status_expression(today).label("status"),
        Patient.needs_review,
        Enrollment.anchor_date,
        Patient.consent_state,
    )
    return (
        select(*columns)
        .select_from(Patient)
        .join(Store, Store.id == Patient.store_id)
        .outerjoin(Enrollment, Enrollment.patient_id == Patient.id)
    )


def _row(row: Row[Any]) -> RosterRow:
    return RosterRow(
        id=row.id,
        external_id=row.external_id,
        first_name=row.first_name,
        last_name=row.last_name,
        birth_date=row.birth_date,
        phone=row.phone,
        store_code=row.code,
        status=RosterStatus(row.status),
        needs_review=row.needs_review,
        anchor_date=row.anchor_date,
        consent_state=row.consent_state,
    )


MAX_QUERY = 100
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y")


def parse_birth_date(text: str) -> dt.date | None:
    """Read a birth date as staff type it: 1948-03-09, 03/09/1948 or 3/9/1948."""
    for pattern in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _like_prefix(word: str) -> str:
    escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def search_condition(query: str, region: str = "US") -> ColumnElement[bool] | None:
    """Match `query` against the PMS id, the phone (any format), the birth date or the name
    (every word the start of the first or last name, in any order, case aside); None when
    the query is empty."""
    query = " ".join(query.split())[:MAX_QUERY]
    if not query:
        return None
    matches: list[ColumnElement[bool]] = [Patient.external_id == query]
    birth = parse_birth_date(query)
    if birth is not None:
        matches.append(Patient.birth_date == birth)
    if len(re.sub(r"\D", "", query)) >= 7 and not re.search(r"[^\W\d_]", query):
        phone = normalize_phone(query, region)
        if phone is not None:
            matches.append(Patient.phone == phone)
    words = [w for w in re.split(r"[\s,]+", query) if w]
    if words and re.search(r"[^\W\d_]", query):
        first, last = func.lower(Patient.first_name), func.lower(Patient.last_name)
        matches.append(
            and_(
                *(
                    or_(
                        first.like(_like_prefix(w), escape="\\"),
                        last.like(_like_prefix(w), escape="\\"),
                    )
                    for w in words
                )
            )
        )
    return or_(*matches)


@dataclass(frozen=True)
class RosterPage:
    rows: Sequence[RosterRow]
    total: int
    next_after: int | None  # the id to pass as `after` for the next page; None: last page


def search(
    session: Session,
    store_ids: Collection[int],
    today: dt.date,
    *,
    query: str = "",
    status: RosterStatus | None = None,
    new_from_import: bool = False,
    after: int | None = None,
    per_page: int = 50,
) -> RosterPage | None:
    """One page of the caller's patients by name, filtered; None when `after` is not one of
    the caller's patients (a bad cursor)."""
    conditions: list[ColumnElement[bool]] = [Patient.store_id.in_(store_ids)]
    matched = search_condition(query)
    if matched is not None:
        conditions.append(matched)
    if status is not None:
        conditions.append(status_expression(today) == status.value)
    if new_from_import:
        conditions.append(Patient.needs_review.is_(True))
    base = _roster_select(today).where(*conditions)
    # The count joins the enrollment only when the status needs it.
    counted = select(func.count(Patient.id)).select_from(Patient)
    if status is not None:
        counted = counted.outerjoin(Enrollment, Enrollment.patient_id == Patient.id)
    total = session.scalar(counted.where(*conditions)) or 0
    order = (Patient.last_name, Patient.first_name, Patient.id)
    page = base
    if after is not None:
        cursor = session.execute(
            select(Patient.last_name, Patient.first_name, Patient.id).where(
                Patient.id == after, Patient.store_id.in_(store_ids)
            )
        ).one_or_none()
        if cursor is None:
            return None
        page = page.where(tuple_(*order) > tuple_(*cursor))
    rows = [_row(r) for r in session.execute(page.order_by(*order).limit(per_page + 1))]
    more = len(rows) > per_page
    rows = rows[:per_page]
    return RosterPage(rows, int(total), rows[-1].id if more else None)


def status_of(session: Session, patient_id: int, today: dt.date) -> RosterStatus:
    """The roster status of one patient (the same expression as the roster's filter)."""
    value = session.scalar(
        select(status_expression(today))
        .select_from(Patient)
        .outerjoin(Enrollment, Enrollment.patient_id == Patient.id)
        .where(Patient.id == patient_id)
    )
    return RosterStatus(value or RosterStatus.NOT_CONSENTED)


def rows_by_external_id(
    session: Session, store_ids: Collection[int], external_ids: Collection[str], today: dt.date
) -> dict[str, list[RosterRow]]:
    """The caller's patients with these PMS ids (one per store at most), by PMS id."""
    found: dict[str, list[RosterRow]] = {}
    ids = list(dict.fromkeys(external_ids))
    for start in range(0, len(ids), 500):  # bounded IN lists
        query = _roster_select(today).where(
            Patient.store_id.in_(store_ids), Patient.external_id.in_(ids[start : start + 500])
        )
        for row in session.execute(query.order_by(Store.code)):
            roster_row = _row(row)
            found.setdefault(roster_row.external_id, []).append(roster_row)
    return found


def household(
    session: Session, patient: Patient, today: dt.date, limit: int = 20
) -> Sequence[RosterRow]:
    """The other patients of the same store with the same phone (a household, a caregiver)."""
    query = _roster_select(today).where(
        Patient.store_id == patient.store_id,
        Patient.phone == patient.phone,
        Patient.id != patient.id,
    )
    return [_row(r) for r in session.execute(query.order_by(Patient.first_name).limit(limit))]


def find_by_external_id(
    session: Session, store_ids: Collection[int], external_id: str, store_code: str | None
) -> Sequence[Patient]:
    """The caller's patients with this PMS id (in `store_code` when given)."""
    query = (
        select(Patient)
        .join(Store, Store.id == Patient.store_id)
        .where(Patient.external_id == external_id, Patient.store_id.in_(store_ids))
        .order_by(Store.code)
    )
    if store_code:
        query = query.where(Store.code == store_code)
    return session.scalars(query).all()


def count_contacted_next(
    session: Session, *, store_id: int, today: dt.date, lead_days: int, import_run: str
) -> tuple[int, int]:
    """Of one import run's patients of a store: how many the next scheduler pass would
    contact (a welcome due, or a check-in due: the anchor within `lead_days` of `today`, as
    scheduler.policy.checkin_due says), and how many wait for staff review instead."""
    mine = and_(Patient.store_id == store_id, Patient.import_run == import_run)
    contacted = (
        select(func.count())
        .select_from(Patient)
        .join(Enrollment, Enrollment.patient_id == Patient.id)
        .where(
            mine,
            status_expression(today) == RosterStatus.ENROLLED.value,
            Patient.needs_review.is_(False),
            or_(welcome_due(), Enrollment.anchor_date <= today + dt.timedelta(days=lead_days)),
        )
    )
    waiting = select(func.count()).select_from(Patient).where(mine, Patient.needs_review)
    return int(session.scalar(contacted) or 0), int(session.scalar(waiting) or 0)
