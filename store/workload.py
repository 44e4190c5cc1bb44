"""Fills per day (SPEC 13's workload): how many patients and maintenance medicines fall on
each date, per store, so staff can spread anchor dates.

Every active enrollment counts, whatever the patient's consent or check-in: each is a bag to
prepare on its anchor date (the fill-day list has a row for each). A date counts an enrollment
when it is its anchor date or a later date of its cycle (anchor + k x cycle_days), so weekly
and two-week cycles count on every date they fall on. One grouped query per call: by store,
anchor date and cycle, a few hundred rows whatever the number of patients.

The Upcoming page's calendar (`calendar`) lists the same enrollments on the same dates, one
row per patient, so the two pages never disagree about who is due when.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import Channel, Checkin, CheckinStatus, Enrollment, Medicine, MedType, Patient
from store.roster import RosterStatus, status_expression


def cycle_dates(
    anchor: dt.date, cycle_days: int, start: dt.date, end: dt.date
) -> Iterator[dt.date]:
    """The dates of the cycle of `anchor` in [start, end]: the anchor, or a later cycle date
    (an anchor the scheduler has not rolled yet counts from its next date)."""
    day = anchor
    if day < start:
        cycles = -(-(start - day).days // cycle_days)  # ceiling division
        day += dt.timedelta(days=cycles * cycle_days)
    while day <= end:
        yield day
        day += dt.timedelta(days=cycle_days)


@dataclass
class DayLoad:
    """One store's work on one date."""

    day: dt.date
    patients: int = 0
    medicines: int = 0


def fills_per_day(
    session: Session, store_ids: Collection[int], start: dt.date, end: dt.date
) -> dict[int, list[DayLoad]]:
    """Per store id, one DayLoad for every date of [start, end], in order (zeros included)."""
    maintenance = (
        select(Medicine.patient_id, func.count().label("medicines"))
        .where(Medicine.med_type == MedType.MAINTENANCE)
        .group_by(Medicine.patient_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Patient.store_id,
            Enrollment.anchor_date,
            Enrollment.cycle_days,
            func.count(Enrollment.id),
            func.coalesce(func.sum(maintenance.c.medicines), 0),
        )
        .join(Patient, Patient.id == Enrollment.patient_id)
        .outerjoin(maintenance, maintenance.c.patient_id == Enrollment.patient_id)
        .where(
            Patient.store_id.in_(store_ids),
            Enrollment.active.is_(True),
            Enrollment.anchor_date <= end,
        )
        .group_by(Patient.store_id, Enrollment.anchor_date, Enrollment.cycle_days)
    ).all()
    days = (end - start).days + 1
    loads = {
        store_id: [DayLoad(start + dt.timedelta(days=n)) for n in range(days)]
        for store_id in store_ids
    }
    for store_id, anchor, cycle, patients, medicines in rows:
        for day in cycle_dates(anchor, cycle, start, end):
            load = loads[store_id][(day - start).days]
            load.patients += int(patients)
            load.medicines += int(medicines)
    return loads


def full_days(
    session: Session, store_id: int, start: dt.date, end: dt.date, limit: int
) -> frozenset[dt.date]:
    """The dates of [start, end] on which one more patient would take the store over its
    daily fill limit (the anchor suggestion avoids them)."""
    loads = fills_per_day(session, [store_id], start, end)[store_id]
    return frozenset(load.day for load in loads if load.patients + 1 > limit)


@dataclass(frozen=True)
class CalendarRow:
    """One enrolled patient on one of their anchor dates, with the check-in if one exists."""

    day: dt.date
    patient_id: int
    first_name: str
    last_name: str
    channel: Channel
    status: RosterStatus  # enrolled, not consented, opted out, paused
    checkin_status: CheckinStatus | None  # None: no check-in (yet) for this date
    attempts: int

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def calendar(
    session: Session, store_ids: Collection[int], start: dt.date, end: dt.date, today: dt.date
) -> dict[dt.date, list[CalendarRow]]:
    """Every active enrollment on each of its anchor dates in [start, end] (the next anchor
    and, for short cycles, the ones after), by date, patients by name: with or without
    consent, with the check-in's status when the scheduler has created it."""
    rows = session.execute(
        select(
            Enrollment.anchor_date,
            Enrollment.cycle_days,
            Patient.id,
            Patient.first_name,
            Patient.last_name,
            Patient.channel,
            status_expression(today),
            Checkin.status,
            Checkin.attempts,
        )
        .select_from(Enrollment)
        .join(Patient, Patient.id == Enrollment.patient_id)
        .outerjoin(
            Checkin,
            (Checkin.enrollment_id == Enrollment.id)
            & (Checkin.anchor_date == Enrollment.anchor_date),
        )
        .where(
            Patient.store_id.in_(store_ids),
            Enrollment.active.is_(True),
            Enrollment.anchor_date <= end,
        )
        .order_by(Patient.last_name, Patient.first_name, Patient.id)
    ).all()
    by_day: dict[dt.date, list[CalendarRow]] = {}
    for anchor, cycle, patient_id, first, last, channel, status, checkin, attempts in rows:
        for day in cycle_dates(anchor, cycle, start, end):
            current = day == anchor  # a check-in belongs to the current anchor only
            by_day.setdefault(day, []).append(
                CalendarRow(
                    day,
                    patient_id,
                    first,
                    last,
                    channel,
                    RosterStatus(status),
                    checkin if current else None,
                    (attempts or 0) if current else 0,
                )
            )
    return dict(sorted(by_day.items()))
