"""Renewal requests to prescribers (SPEC 13): the `renewal_needed` items and their answers.

* **Which medicines.** A maintenance medicine with no refills left, of an active enrollment
  (whatever the patient's consent: asking the prescriber contacts nobody but the prescriber),
  with no renewal item yet for the enrollment's current anchor date. Whether its fill is near
  enough is the pure rule of planning/renewals.py, applied by scheduler/renewals.py.
* **Once per medicine and cycle.** `raise_renewal` locks the medicine row, then checks again
  in a second statement (on PostgreSQL a statement that waited for a lock still sees its older
  snapshot) that no item of this medicine and anchor date exists, whether open or resolved. Two
  schedulers racing wait on that lock; on SQLite every transaction is `BEGIN IMMEDIATE`.
* **The answer.** Approved or changed with N refills sets the medicine's `refills_remaining`
  to N, which the fill-day list reads (`renewal_needed` while it is 0); denied leaves it at 0.

Every read for pages takes the caller's store ids. Nothing here commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from store import queue
from store.models import (
    Enrollment,
    Medicine,
    MedType,
    Patient,
    QueueItem,
    QueueKind,
    QueueStatus,
    RenewalAnswer,
    Store,
    table_of,
)

ACTIVE = (QueueStatus.OPEN, QueueStatus.CLAIMED)


@dataclass(frozen=True)
class Candidate:
    """A medicine that may need a renewal request for its enrollment's current anchor."""

    medicine_id: int
    anchor_date: dt.date
    zone: str  # the patient's timezone, else the store's
    last_fill_date: dt.date | None
    days_supply: int | None
    quantity: float | None
    daily_dose: float | None


def _no_item_for_anchor() -> object:
    return ~exists().where(
        QueueItem.medicine_id == Medicine.id,
        QueueItem.kind == QueueKind.RENEWAL_NEEDED,
        QueueItem.anchor_date == Enrollment.anchor_date,
    )


def list_candidates(session: Session, *, after: int, limit: int) -> list[Candidate]:
    """A page (by medicine id, after `after`) of medicines with no refills left and no renewal
    item for the current anchor."""
    rows = session.execute(
        select(
            Medicine.id,
            Enrollment.anchor_date,
            func.coalesce(Patient.timezone, Store.timezone),
            Medicine.last_fill_date,
            Medicine.days_supply,
            Medicine.quantity,
            Medicine.daily_dose,
        )
        .join(Patient, Patient.id == Medicine.patient_id)
        .join(Store, Store.id == Patient.store_id)
        .join(Enrollment, Enrollment.patient_id == Patient.id)
        .where(
            Medicine.id > after,
            Medicine.med_type == MedType.MAINTENANCE,
            Medicine.refills_remaining == 0,
            Enrollment.active.is_(True),
            _no_item_for_anchor(),  # type: ignore[arg-type]
        )
        .order_by(Medicine.id)
        .limit(limit)
    ).all()
    return [Candidate(*row) for row in rows]


def raise_renewal(
    session: Session, medicine_id: int, anchor_date: dt.date, fill_by: dt.date
) -> int | None:
    """Queue the renewal item of one medicine for `anchor_date`; None when it is no longer
    needed or another pass raised it first (see the module's docstring)."""
    locked = session.scalars(
        select(Medicine).where(Medicine.id == medicine_id).with_for_update()
    ).one_or_none()
    if locked is None:
        return None
    still = session.execute(
        select(Patient.store_id)
        .join(Enrollment, Enrollment.patient_id == Patient.id)
        .join(Medicine, Medicine.patient_id == Patient.id)
        .where(
            Medicine.id == medicine_id,
            Medicine.med_type == MedType.MAINTENANCE,
            Medicine.refills_remaining == 0,
            Enrollment.active.is_(True),
            Enrollment.anchor_date == anchor_date,
            _no_item_for_anchor(),  # type: ignore[arg-type]
        )
    ).one_or_none()
    if still is None:
        return None
    (store_id,) = still
    prescriber = locked.prescriber_name or "the prescriber"
    return queue.add_item(
        session,
        kind=QueueKind.RENEWAL_NEEDED,
        store_id=store_id,
        patient=locked.patient,
        anchor_date=anchor_date,
        medicine_id=medicine_id,
        text=(
            f"No refills left for {locked.name}; it is to be filled by "
            f"{fill_by.strftime('%a %b %d')}. Ask {prescriber} for a renewal."
        ),
        reason="no refills left, and the fill is due within 14 days",
    )


@dataclass(frozen=True)
class RenewalRow:
    """One renewal item with what a request to the prescriber prints."""

    item_id: int
    status: QueueStatus
    store_id: int
    store_code: str
    store_name: str
    store_phone: str
    store_timezone: str
    patient_id: int
    first_name: str
    last_name: str
    birth_date: dt.date | None
    anchor_date: dt.date | None
    medicine_name: str | None  # None: the medicine is gone from the PMS export
    rx_number: str | None
    last_fill_date: dt.date | None
    quantity: float | None
    days_supply: int | None
    prescriber_name: str | None
    prescriber_npi: str | None
    prescriber_phone: str | None
    prescriber_fax: str | None
    sent_at: dt.datetime | None
    answer: RenewalAnswer | None
    refills: int | None

    @property
    def patient_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def prescriber_key(self) -> str:
        """How a sheet names its prescriber: the NPI, else the name ('' when neither is known)."""
        return self.prescriber_npi or self.prescriber_name or ""


def _rows_select(store_ids: Collection[int]):  # type: ignore[no-untyped-def]
    return (
        select(
            QueueItem.id,
            QueueItem.status,
            Store.id,
            Store.code,
            Store.name,
            Store.phone,
            Store.timezone,
            Patient.id,
            Patient.first_name,
            Patient.last_name,
            Patient.birth_date,
            QueueItem.anchor_date,
            Medicine.name,
            Medicine.rx_number,
            Medicine.last_fill_date,
            Medicine.quantity,
            Medicine.days_supply,
            Medicine.prescriber_name,
            Medicine.prescriber_npi,
            Medicine.prescriber_phone,
            Medicine.prescriber_fax,
            QueueItem.renewal_sent_at,
            QueueItem.renewal_answer,
            QueueItem.renewal_refills,
        )
        .select_from(QueueItem)
        .join(Store, Store.id == QueueItem.store_id)
        .join(Patient, Patient.id == QueueItem.patient_id)
        .outerjoin(Medicine, Medicine.id == QueueItem.medicine_id)
        .where(QueueItem.store_id.in_(store_ids), QueueItem.kind == QueueKind.RENEWAL_NEEDED)
    )


def open_renewals(session: Session, store_ids: Collection[int]) -> list[RenewalRow]:
    """The open and claimed renewal items of the caller's stores, by store, prescriber and
    patient."""
    rows = session.execute(
        _rows_select(store_ids)
        .where(QueueItem.status.in_(ACTIVE))
        .order_by(
            Store.code,
            Medicine.prescriber_name,
            Patient.last_name,
            Patient.first_name,
            QueueItem.id,
        )
    ).all()
    return [RenewalRow(*row) for row in rows]


def renewal_of(session: Session, store_ids: Collection[int], item_id: int) -> RenewalRow | None:
    """One renewal item of the caller's stores (any status)."""
    row = session.execute(_rows_select(store_ids).where(QueueItem.id == item_id)).one_or_none()
    return RenewalRow(*row) if row is not None else None


@dataclass(frozen=True)
class Sheet:
    """One request to one prescriber from one store."""

    store_id: int
    prescriber_key: str
    rows: Sequence[RenewalRow]

    @property
    def first(self) -> RenewalRow:
        return self.rows[0]


def sheets(rows: Sequence[RenewalRow]) -> list[Sheet]:
    """Group rows (already in store order) by store and prescriber."""
    groups: dict[tuple[int, str], list[RenewalRow]] = {}
    for row in rows:
        groups.setdefault((row.store_id, row.prescriber_key), []).append(row)
    return [Sheet(store, key, found) for (store, key), found in groups.items()]


def mark_sent(session: Session, item_ids: Collection[int], now: dt.datetime) -> list[int]:
    """Record that the request of these open renewal items went to the prescriber now (again,
    if it had gone before); return the ids changed."""
    if not item_ids:
        return []
    items = table_of(QueueItem)
    return list(
        session.scalars(
            update(items)
            .where(
                items.c.id.in_(list(item_ids)),
                items.c.kind == QueueKind.RENEWAL_NEEDED,
                items.c.status.in_(ACTIVE),
            )
            .values(renewal_sent_at=now)
            .returning(items.c.id)
        )
    )


def record_answer(
    session: Session, item_id: int, answer: RenewalAnswer, refills: int | None
) -> int | None:
    """Store the prescriber's answer on the item and, when approved or changed, the new
    refills on its medicine; return the medicine's id (None when it is gone)."""
    items = table_of(QueueItem)
    medicine_id: int | None = session.scalar(
        update(items)
        .where(items.c.id == item_id)
        .values(renewal_answer=answer, renewal_refills=refills)
        .returning(items.c.medicine_id)
    )
    if medicine_id is not None and answer is not RenewalAnswer.DENIED and refills is not None:
        medicines = table_of(Medicine)
        session.execute(
            update(medicines).where(medicines.c.id == medicine_id).values(refills_remaining=refills)
        )
    return medicine_id
