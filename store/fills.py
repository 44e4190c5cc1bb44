"""The fill day's queries and writes (SPEC 13): who is due on an anchor date, everything their
row shows, and the fill-state changes.

Reads are four set-based statements for the whole day (no query per patient): the day's
enrollments with their patients, check-ins and fills (joined), then those patients' maintenance
medicines and queue items by id, and the stores' codes. The bot's read model (bot/fills.py)
puts them together.

A patient is on a day's list when their enrollment's anchor date is that day (and it is not
disenrolled), or when a check-in or a fill exists for that enrollment and day: after the
anchor date the scheduler rolls the enrollment to its next cycle, and past days must still
show who was due.

Fill rows are created when staff first act on a row (`ensure_fill`); until then the row is
`to_prepare` by definition. State changes are conditional UPDATEs on the state the caller
read, so two people clicking at once cannot both win. Functions only query and write; the
caller commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, func, or_, select, union, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from store.models import (
    Checkin,
    CheckinStatus,
    Delivery,
    Enrollment,
    Fill,
    FillState,
    Medicine,
    MedType,
    Package,
    Patient,
    QueueItem,
    QueueKind,
    QueueStatus,
    Store,
    table_of,
)
from store.roster import status_expression

ACTIVE_ITEM_STATUSES = (QueueStatus.OPEN, QueueStatus.CLAIMED)
CLOSED_STATES = (FillState.PICKED_UP, FillState.DELIVERED)


def _day_enrollments(
    store_ids: Collection[int], day: dt.date, only: int | None = None
) -> Select[Any]:
    """The ids of the enrollments due on `day` in `store_ids` (see the module docstring);
    `only`: just that enrollment's, if it is due."""
    anchored = (
        select(Enrollment.id)
        .join(Patient, Patient.id == Enrollment.patient_id)
        .where(
            Enrollment.anchor_date == day,
            Enrollment.active.is_(True),
            Patient.store_id.in_(store_ids),
        )
    )
    checked = select(Checkin.enrollment_id).where(
        Checkin.anchor_date == day, Checkin.store_id.in_(store_ids)
    )
    filled = select(Fill.enrollment_id).where(Fill.anchor_date == day, Fill.store_id.in_(store_ids))
    if only is not None:
        anchored = anchored.where(Enrollment.id == only)
        checked = checked.where(Checkin.enrollment_id == only)
        filled = filled.where(Fill.enrollment_id == only)
    return select(union(anchored, checked, filled).subquery().c[0])


class DayPatient(NamedTuple):
    """One enrollment due on the day, with its patient, the day's check-in and fill (if any)."""

    enrollment_id: int
    patient_id: int
    store_id: int
    external_id: str
    first_name: str
    last_name: str
    birth_date: dt.date | None
    delivery: Delivery
    cycle_days: int
    roster_status: str  # a RosterStatus value
    checkin_id: int | None
    checkin_status: CheckinStatus | None
    topics: dict[str, str] | None
    fill_id: int | None
    fill_state: FillState | None
    fill_delivery: Delivery | None
    note: str | None
    ready_at: dt.datetime | None
    ready_notice_at: dt.datetime | None


class DayMedicine(NamedTuple):
    """A maintenance medicine of a patient due on the day: its planning columns."""

    id: int
    patient_id: int
    name: str
    days_supply: int | None
    last_fill_date: dt.date | None
    refills_remaining: int | None
    quantity: float | None
    daily_dose: float | None
    package: Package
    controlled: bool


class DayItem(NamedTuple):
    id: int
    patient_id: int | None  # never None here: the query takes these patients' items
    checkin_id: int | None
    kind: QueueKind
    status: QueueStatus
    text: str | None
    medicine_id: int | None


@dataclass(frozen=True)
class DayData:
    """Everything the fill-day list of one day shows, read in four statements."""

    patients: Sequence[DayPatient]
    medicines: Sequence[DayMedicine]
    items: Sequence[DayItem]
    stores: dict[int, str]  # id -> code


def read_day(
    session: Session, store_ids: Collection[int], day: dt.date, only: int | None = None
) -> DayData:
    """Read the fill day `day` of `store_ids`: patients with their check-in and fill, their
    maintenance medicines, their items (`only`: one enrollment's row).

    The first statement joins each enrollment due to its check-in and fill of the day;
    medicines and items take the same enrollments' patients. Rows come as plain tuples from
    the connection (no ORM loading step: 8,000 rows on a big day)."""
    ids = _day_enrollments(store_ids, day, only).subquery()
    run = session.connection().execute
    patients = [
        DayPatient._make(row)
        for row in run(
            select(
                Enrollment.id,
                Patient.id,
                Patient.store_id,
                Patient.external_id,
                Patient.first_name,
                Patient.last_name,
                Patient.birth_date,
                Patient.delivery,
                Enrollment.cycle_days,
                status_expression(day),
                Checkin.id,
                Checkin.status,
                Checkin.topics,
                Fill.id,
                Fill.state,
                Fill.delivery,
                Fill.note,
                Fill.ready_at,
                Fill.ready_notice_at,
            )
            .select_from(ids)
            .join(Enrollment, Enrollment.id == ids.c[0])
            .join(Patient, Patient.id == Enrollment.patient_id)
            .outerjoin(
                Checkin, and_(Checkin.enrollment_id == Enrollment.id, Checkin.anchor_date == day)
            )
            .outerjoin(Fill, and_(Fill.enrollment_id == Enrollment.id, Fill.anchor_date == day))
        ).all()
    ]
    if not patients:
        return DayData([], [], [], {})
    # The same day's ids again as subqueries, not as lists: 2,000 bound values per list cost
    # more to render and send than the database takes to find them again.
    patient_ids = select(Enrollment.patient_id).where(Enrollment.id.in_(select(ids.c[0])))
    checkin_ids = select(Checkin.id).where(
        Checkin.anchor_date == day, Checkin.enrollment_id.in_(select(ids.c[0]))
    )
    medicines = [
        DayMedicine._make(row)
        for row in run(
            select(
                Medicine.id,
                Medicine.patient_id,
                Medicine.name,
                Medicine.days_supply,
                Medicine.last_fill_date,
                Medicine.refills_remaining,
                Medicine.quantity,
                Medicine.daily_dose,
                Medicine.package,
                Medicine.controlled,
            )
            .where(Medicine.patient_id.in_(patient_ids), Medicine.med_type != MedType.PRN)
            .order_by(Medicine.patient_id, Medicine.name)
        ).all()
    ]
    # Active items of these patients (whatever cycle raised them), and this day's check-ins'
    # items even when resolved (an as-needed request staff cleared is still to be filled).
    items = [
        DayItem._make(row)
        for row in run(
            select(
                QueueItem.id,
                QueueItem.patient_id,
                QueueItem.checkin_id,
                QueueItem.kind,
                QueueItem.status,
                QueueItem.text,
                QueueItem.medicine_id,
            )
            .where(
                QueueItem.patient_id.in_(patient_ids),
                or_(
                    QueueItem.status.in_(ACTIVE_ITEM_STATUSES),
                    QueueItem.checkin_id.in_(checkin_ids),
                ),
            )
            .order_by(QueueItem.priority, QueueItem.created_at, QueueItem.id)
        ).all()
    ]
    stores = dict(
        run(select(Store.id, Store.code).where(Store.id.in_({p.store_id for p in patients}))).all()
    )
    return DayData(patients, medicines, items, stores)


def is_due_on(session: Session, enrollment: Enrollment, day: dt.date) -> bool:
    """Tell whether the enrollment has a row on the fill day `day` (the list's own rule)."""
    if enrollment.anchor_date == day and enrollment.active:
        return True
    checked = select(Checkin.id).where(
        Checkin.enrollment_id == enrollment.id, Checkin.anchor_date == day
    )
    filled = select(Fill.id).where(Fill.enrollment_id == enrollment.id, Fill.anchor_date == day)
    return session.scalar(checked.union(filled).limit(1)) is not None


def get_enrollment(
    session: Session, store_ids: Collection[int], enrollment_id: int
) -> Enrollment | None:
    """The enrollment (with its patient) if its patient is in one of `store_ids`."""
    return session.scalars(
        select(Enrollment)
        .join(Patient, Patient.id == Enrollment.patient_id)
        .where(Enrollment.id == enrollment_id, Patient.store_id.in_(store_ids))
    ).one_or_none()


def get_fill(session: Session, store_ids: Collection[int], fill_id: int) -> Fill | None:
    """The fill if it belongs to one of `store_ids`."""
    return session.scalars(
        select(Fill).where(Fill.id == fill_id, Fill.store_id.in_(store_ids))
    ).one_or_none()


def find_fill(session: Session, enrollment_id: int, day: dt.date) -> Fill | None:
    return session.scalars(
        select(Fill).where(Fill.enrollment_id == enrollment_id, Fill.anchor_date == day)
    ).one_or_none()


def ensure_fill(session: Session, enrollment: Enrollment, day: dt.date, now: dt.datetime) -> Fill:
    """The enrollment's fill for `day`, created `to_prepare` if missing (never twice: the
    insert skips a row someone else created meanwhile)."""
    patient = enrollment.patient
    checkin_id = session.scalar(
        select(Checkin.id).where(Checkin.enrollment_id == enrollment.id, Checkin.anchor_date == day)
    )
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(Fill)
        .on_conflict_do_nothing(index_elements=["enrollment_id", "anchor_date"])
        .values(
            store_id=patient.store_id,
            patient_id=patient.id,
            enrollment_id=enrollment.id,
            checkin_id=checkin_id,
            anchor_date=day,
            state=FillState.TO_PREPARE,
            delivery=patient.delivery,
            created_at=now,
            updated_at=now,
        )
    )
    found = find_fill(session, enrollment.id, day)
    assert found is not None
    return found


def move_state(
    session: Session,
    fill_id: int,
    expected: FillState,
    new: FillState,
    *,
    note: str | None,
    user_id: int | None,
    now: dt.datetime,
) -> bool:
    """Move a fill from `expected` to `new` unless someone changed it first; tell whether it
    moved. Ready stamps `ready_at` (the notice and the pickup clock start there); picked up
    and delivered stamp `closed_at`."""
    values: dict[str, Any] = {"state": new, "updated_at": now, "updated_by_id": user_id}
    if note is not None:
        values["note"] = note
    if new is FillState.READY:
        values["ready_at"] = now
    if new in CLOSED_STATES:
        values["closed_at"] = now
    table = table_of(Fill)
    result = session.execute(
        update(table).where(table.c.id == fill_id, table.c.state == expected).values(**values)
    )
    session.expire_all()
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def set_delivery(session: Session, fill_id: int, delivery: Delivery, now: dt.datetime) -> None:
    table = table_of(Fill)
    session.execute(
        update(table).where(table.c.id == fill_id).values(delivery=delivery, updated_at=now)
    )


def follow_patient_delivery(
    session: Session, patient_id: int, delivery: Delivery, now: dt.datetime
) -> None:
    """The patient's choice changed: their fills not yet collected or delivered follow it."""
    table = table_of(Fill)
    session.execute(
        update(table)
        .where(
            table.c.patient_id == patient_id,
            table.c.state.not_in(CLOSED_STATES),
            table.c.delivery != delivery,
        )
        .values(delivery=delivery, updated_at=now)
    )


# --- The scheduler's side: ready notices, the pickup reminder, the not-picked-up item ---------


@dataclass(frozen=True)
class ReadyFill:
    """A fill marked ready and not collected, with what the scheduler needs to decide."""

    fill_id: int
    patient_id: int
    checkin_id: int | None
    store_id: int
    anchor_date: dt.date
    delivery: Delivery
    ready_at: dt.datetime | None  # never None here: the query takes marked fills
    ready_notice_at: dt.datetime | None
    pickup_reminded_at: dt.datetime | None
    not_picked_up_at: dt.datetime | None
    pickup_days: int
    zone: str
    window_start_minute: int
    window_end_minute: int


def list_ready_fills(session: Session, *, after: int, limit: int) -> list[ReadyFill]:
    """Fills in state `ready` with something still to do (a notice, the reminder, the item),
    by id from `after`. Few at any time: fills wait ready a few days at most."""
    query = (
        select(
            Fill.id,
            Fill.patient_id,
            Fill.checkin_id,
            Fill.store_id,
            Fill.anchor_date,
            Fill.delivery,
            Fill.ready_at,
            Fill.ready_notice_at,
            Fill.pickup_reminded_at,
            Fill.not_picked_up_at,
            Store.pickup_days,
            func.coalesce(Patient.timezone, Store.timezone),
            Store.window_start_minute,
            Store.window_end_minute,
        )
        .join(Patient, Patient.id == Fill.patient_id)
        .join(Store, Store.id == Fill.store_id)
        .where(
            Fill.state == FillState.READY,
            Fill.ready_at.is_not(None),
            Fill.not_picked_up_at.is_(None),
            Fill.id > after,
        )
        .order_by(Fill.id)
        .limit(limit)
    )
    rows: list[tuple[Any, ...]] = [tuple(row) for row in session.execute(query).all()]
    return [ReadyFill(*row) for row in rows]


def _claim(session: Session, fill_id: int, column: str, now: dt.datetime) -> bool:
    table = table_of(Fill)
    result = session.execute(
        update(table)
        .where(
            table.c.id == fill_id,
            table.c.state == FillState.READY,
            table.c[column].is_(None),
        )
        .values({column: now})
    )
    return int(getattr(result, "rowcount", 0)) == 1


def claim_ready_notice(session: Session, fill_id: int, now: dt.datetime) -> bool:
    """Mark the ready notice sent unless someone did (or the fill moved on); tell whether
    this caller did. In the commit that records the text: never a second notice."""
    return _claim(session, fill_id, "ready_notice_at", now)


def claim_pickup_reminder(session: Session, fill_id: int, now: dt.datetime) -> bool:
    return _claim(session, fill_id, "pickup_reminded_at", now)


def claim_not_picked_up(session: Session, fill_id: int, now: dt.datetime) -> bool:
    return _claim(session, fill_id, "not_picked_up_at", now)


def link_item(
    session: Session,
    item_id: int,
    fill_id: int,
    anchor_date: dt.date,
    checkin_id: int | None,
    now: dt.datetime,
) -> None:
    """Point a not_picked_up item at the fill that waited (its check-in and date), dated by
    the pass's clock."""
    table = table_of(QueueItem)
    session.execute(
        update(table)
        .where(table.c.id == item_id)
        .values(fill_id=fill_id, anchor_date=anchor_date, checkin_id=checkin_id, created_at=now)
    )
