"""The program report (SPEC 15): what the med sync program did in a period, per store and for
a chain. The one read model behind `/reports`, `GET /api/reports/program` and the CSV download.

A period is two local dates, both inclusive, read in each store's own timezone (a text sent
at 19:30 in New York belongs to that New York day). Each store is measured on its own and a
chain's total adds the stores' counts up (rates and the median are computed again from the
added-up figures, never averaged), so a store and its chain can never disagree.

Every measure is defined once, in DEFINITIONS, and the page prints those words beside the
numbers. What the tables cannot tell is said there too: the database keeps a patient's
current consent and opt-out, not their history, so a patient who stopped and later started
again counts by where they stand now.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from store.models import (
    CHECKIN_PURPOSES,
    OUTREACH_PURPOSES,
    Channel,
    Checkin,
    CheckinStatus,
    Direction,
    Enrollment,
    Fill,
    FillState,
    Language,
    Message,
    Patient,
    QueueItem,
    QueueKind,
    Store,
)

# Sends that never reached the patient's phone: not yet handed over (or lost in a crash),
# refused by Twilio, or undeliverable. Every other outbound status counts as a contact attempt.
NOT_SENT_STATUSES = ("pending", "failed", "undelivered", "canceled")
CLOSED_FILL_STATES = (FillState.PICKED_UP, FillState.DELIVERED)
# Continuation is judged this many days after the enrollment began (six and twelve months).
CONTINUATION_DAYS = {"continuation_6_months": 182, "continuation_12_months": 365}
MAX_PERIOD_DAYS = 731  # two years: a report the page can draw and the database can answer

DEFINITIONS: dict[str, str] = {
    "enrolled": (
        "Patients in the program at the end of the period: enrolled before it ended, with"
        " outreach consent recorded on or before its last day, not disenrolled and not opted"
        " out by then. Paused patients count (they are still in the program)."
    ),
    "target": (
        "The store's enrollment target (Stores page; 100 by default, the size at which programs"
        " are reported to pay for themselves). For a chain, the stores' targets added up."
    ),
    "new_enrollments": "Enrollments that began in the period.",
    "disenrollments": (
        "Enrollments that staff ended in the period, counted by the reason they gave."
        " A patient enrolled again since then is not counted (the end date is cleared)."
    ),
    "contacted": (
        "Patients who were sent at least one pharmacy-initiated text or call in the period"
        " (a check-in's first message, its reminder or call, a refills-ready notice, a pickup"
        " reminder, the welcome text) that was handed to the phone network. Sends that failed"
        " or were refused are not contact."
    ),
    "responded": (
        "Of the contacted patients, those who texted or answered a call (words, keypad or a"
        " recording) in the period after their first contact in it. STOP and HELP are answers"
        " too."
    ),
    "response_rate": "Responded divided by contacted (0 when nobody was contacted).",
    "opt_out_rate": (
        "Of the contacted patients, the share who opted out in the period (STOP, or a carrier"
        " unsubscribe) and have not opted back in since."
    ),
    "checkins": (
        "Check-ins whose anchor (pickup) date falls in the period, by their status now"
        " (SPEC 5.5): confirmed (answered, nothing to flag), flagged (answered, something for"
        " a pharmacist), incomplete (answered in part), unreachable, opted out, expired,"
        " and those still scheduled or in progress."
    ),
    "unreachable_rate": "Check-ins in the period that ended unreachable, divided by all of them.",
    "by_channel": (
        "Check-ins in the period by the channel they used. Contact rate: check-ins where a"
        " check-in text or call reached the phone network, divided by the check-ins. Response"
        " rate: check-ins the patient answered, divided by those contacted."
    ),
    "by_language": "The same, by the patient's language.",
    "items": ("Queue items raised in the period, by kind (SPEC 5.6), whatever their status now."),
    "median_hours_to_clear": (
        "For items resolved in the period: the median time from the item being raised to it"
        " being resolved, in hours (0 when none was resolved: see 'cleared')."
    ),
    "fills_per_day": (
        "For each anchor date in the period: check-ins due that day, and fills marked picked up"
        " or delivered for that date on the fill-day list."
    ),
    "initial_sync_rate": (
        "Of patients whose enrollment began in the period, the share whose first synchronized"
        " fill was picked up or delivered by the end of the period. A patient enrolled near the"
        " end may not have reached a first anchor date yet: judge a period that ended at least"
        " one cycle ago. This follows the idea of the PQA medication synchronization measures"
        " with the pharmacy's own records, not PQA's claims-based specification."
    ),
    "patient_contact_rate": (
        "Of check-ins with an anchor date in the period, the share where the patient answered"
        " before the anchor date: two-way contact before the fill, as the PQA measure intends."
        " A text nobody answered is not counted as contact here."
    ),
    "continuation_6_months": (
        "Of patients whose six-month mark (182 days after the enrollment began) falls in the"
        " period, the share still in the program at that mark: not disenrolled and not opted"
        " out before it."
    ),
    "continuation_12_months": (
        "The same at the twelve-month mark (365 days after the enrollment began)."
    ),
    "pdc": (
        "From the fills export you upload (the candidates page reads the same file), for"
        " patients enrolled here: the proportion of days covered (PQA method, planning/pdc.py)"
        " in each CMS Star Ratings class over the twelve months ending on each month end in the"
        " period. 'Adherent' is a PDC of 80% or more; patients with fewer than two fills of the"
        " class, or a first fill less than 91 days before the point, have no PDC and are not"
        " counted. Hospice, ESRD and inpatient-stay exclusions are not applied (the file does"
        " not carry them)."
    ),
}


class PeriodError(ValueError):
    """The period cannot be reported (ends before it starts, or is too long)."""


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError("the period ends before it starts: 'to' must not be before 'from'")
        if (self.end - self.start).days + 1 > MAX_PERIOD_DAYS:
            raise PeriodError(f"the period is longer than {MAX_PERIOD_DAYS} days")

    @classmethod
    def last_days(cls, today: dt.date, days: int = 30) -> Period:
        """The `days` days ending today (the page's default)."""
        return cls(today - dt.timedelta(days=days - 1), today)

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def bounds(self, timezone: str) -> tuple[dt.datetime, dt.datetime]:
        """The period as UTC instants [from, to) in the store's local time."""
        zone = ZoneInfo(timezone)
        first = dt.datetime.combine(self.start, dt.time(), tzinfo=zone).astimezone(dt.UTC)
        after = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=zone)
        return first, after.astimezone(dt.UTC)


@dataclass
class Ratio:
    """A rate with what it is made of, so sums stay exact and a page can say '3 of 4'."""

    numerator: int = 0
    denominator: int = 0

    @property
    def rate(self) -> float:
        return round(self.numerator / self.denominator, 4) if self.denominator else 0.0

    def add(self, other: Ratio) -> None:
        self.numerator += other.numerator
        self.denominator += other.denominator

    def to_json(self) -> dict[str, Any]:
        return {"numerator": self.numerator, "denominator": self.denominator, "rate": self.rate}


@dataclass
class Segment:
    """Check-ins of one channel or language: how many, contacted, answered."""

    checkins: int = 0
    contacted: int = 0
    responded: int = 0

    def add(self, other: Segment) -> None:
        self.checkins += other.checkins
        self.contacted += other.contacted
        self.responded += other.responded

    def to_json(self) -> dict[str, Any]:
        return {
            "checkins": self.checkins,
            "contacted": self.contacted,
            "responded": self.responded,
            "contact_rate": Ratio(self.contacted, self.checkins).rate,
            "response_rate": Ratio(self.responded, self.contacted).rate,
        }


def _zeros(members: Iterable[Any]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for member in members:
        counts[member.value] = 0
    return counts


@dataclass
class ProgramReport:
    """The measures of one store, or of several added up (`combine`)."""

    period: Period
    stores: list[str]
    enrolled: int = 0
    target: int = 0
    new_enrollments: int = 0
    disenroll_reasons: Counter[str] = field(default_factory=Counter)
    contacted: int = 0
    responded: int = 0
    opted_out: int = 0  # contacted patients who opted out in the period
    checkins: Counter[str] = field(default_factory=lambda: _zeros(CheckinStatus))
    items: Counter[str] = field(default_factory=lambda: _zeros(QueueKind))
    clear_hours: list[float] = field(default_factory=list)
    by_channel: dict[str, Segment] = field(default_factory=lambda: _segments(Channel))
    by_language: dict[str, Segment] = field(default_factory=lambda: _segments(Language))
    due_per_day: Counter[dt.date] = field(default_factory=Counter)
    filled_per_day: Counter[dt.date] = field(default_factory=Counter)
    pqa: dict[str, Ratio] = field(
        default_factory=lambda: {
            name: Ratio()
            for name in (
                "initial_sync_rate",
                "patient_contact_rate",
                "continuation_6_months",
                "continuation_12_months",
            )
        }
    )

    @property
    def disenrollments(self) -> int:
        return sum(self.disenroll_reasons.values())

    @property
    def checkins_total(self) -> int:
        return sum(self.checkins.values())

    @property
    def response_rate(self) -> float:
        return Ratio(self.responded, self.contacted).rate

    @property
    def opt_out_rate(self) -> float:
        return Ratio(self.opted_out, self.contacted).rate

    @property
    def unreachable_rate(self) -> float:
        return Ratio(self.checkins[CheckinStatus.UNREACHABLE.value], self.checkins_total).rate

    @property
    def target_share(self) -> float:
        return Ratio(self.enrolled, self.target).rate

    @property
    def median_hours_to_clear(self) -> float:
        return round(statistics.median(self.clear_hours), 2) if self.clear_hours else 0.0

    def fills_per_day(self) -> list[dict[str, Any]]:
        """Every day of the period, zeros included (a chart needs the empty days too)."""
        return [
            {
                "date": day.isoformat(),
                "due": self.due_per_day[day],
                "filled": self.filled_per_day[day],
            }
            for day in self.period.days()
        ]

    def add(self, other: ProgramReport) -> None:
        self.stores += other.stores
        for name in ("enrolled", "target", "new_enrollments", "contacted", "responded"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.opted_out += other.opted_out
        self.disenroll_reasons.update(other.disenroll_reasons)
        self.checkins.update(other.checkins)
        self.items.update(other.items)
        self.clear_hours += other.clear_hours
        for mine, theirs in (
            (self.by_channel, other.by_channel),
            (self.by_language, other.by_language),
        ):
            for key, segment in theirs.items():
                mine[key].add(segment)
        self.due_per_day.update(other.due_per_day)
        self.filled_per_day.update(other.filled_per_day)
        for name, ratio in other.pqa.items():
            self.pqa[name].add(ratio)

    def to_json(self) -> dict[str, Any]:
        """The JSON answer of GET /api/reports/program (SPEC 15's names, and more)."""
        return {
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "stores": list(self.stores),
            "enrolled": self.enrolled,
            "target": self.target,
            "target_share": self.target_share,
            "new_enrollments": self.new_enrollments,
            "disenrollments": self.disenrollments,
            "disenroll_reasons": dict(sorted(self.disenroll_reasons.items())),
            "contacted": self.contacted,
            "responded": self.responded,
            "response_rate": self.response_rate,
            "opted_out": self.opted_out,
            "opt_out_rate": self.opt_out_rate,
            "checkins": dict(self.checkins),
            "checkins_total": self.checkins_total,
            "unreachable_rate": self.unreachable_rate,
            "items": dict(self.items),
            "items_total": sum(self.items.values()),
            "cleared": len(self.clear_hours),
            "median_hours_to_clear": self.median_hours_to_clear,
            "by_channel": {key: s.to_json() for key, s in self.by_channel.items()},
            "by_language": {key: s.to_json() for key, s in self.by_language.items()},
            "fills_per_day": self.fills_per_day(),
            "pqa": {name: ratio.to_json() for name, ratio in self.pqa.items()},
        }


def _segments(members: Iterable[Any]) -> dict[str, Segment]:
    return {member.value: Segment() for member in members}


@dataclass
class ChainReport:
    """The caller's stores one by one, and all of them added up."""

    total: ProgramReport
    per_store: list[ProgramReport]

    def to_json(self) -> dict[str, Any]:
        answer = self.total.to_json()
        answer["per_store"] = [report.to_json() for report in self.per_store]
        return answer


def program_report(session: Session, store_ids: Collection[int], period: Period) -> ChainReport:
    """Measure each of the caller's stores over `period`, and their total."""
    stores = session.scalars(
        select(Store).where(Store.id.in_(store_ids)).order_by(Store.code)
    ).all()
    per_store = [store_report(session, store, period) for store in stores]
    total = ProgramReport(period, [])
    for report in per_store:
        total.add(report)
    return ChainReport(total, per_store)


def store_report(session: Session, store: Store, period: Period) -> ProgramReport:
    """All the measures of one store (the queries below, each for one group of measures)."""
    report = ProgramReport(period, [store.code], target=store.enrollment_target)
    lo, hi = period.bounds(store.timezone)
    _enrollment_measures(session, store, period, lo, hi, report)
    _outreach_measures(session, store, lo, hi, report)
    _checkin_measures(session, store, period, report)
    _item_measures(session, store, lo, hi, report)
    _fill_measures(session, store, period, lo, hi, report)
    return report


def _in_program(session: Session, store: Store) -> Any:
    """Enrollments of the store's patients, with the patient's consent and opt-out."""
    return (
        select(
            Enrollment.created_at,
            Enrollment.disenrolled_at,
            Patient.consent_date,
            Patient.opted_out_at,
            Patient.id,
        )
        .join(Patient, Patient.id == Enrollment.patient_id)
        .where(Patient.store_id == store.id)
    )


def _enrollment_measures(
    session: Session,
    store: Store,
    period: Period,
    lo: dt.datetime,
    hi: dt.datetime,
    report: ProgramReport,
) -> None:
    report.enrolled = (
        session.scalar(
            select(func.count())
            .select_from(Enrollment)
            .join(Patient, Patient.id == Enrollment.patient_id)
            .where(
                Patient.store_id == store.id,
                Enrollment.created_at < hi,
                or_(Enrollment.disenrolled_at.is_(None), Enrollment.disenrolled_at >= hi),
                Patient.consent_date.is_not(None),
                Patient.consent_date <= period.end,
                or_(Patient.opted_out_at.is_(None), Patient.opted_out_at >= hi),
            )
        )
        or 0
    )
    new = (
        select(Enrollment.patient_id)
        .join(Patient, Patient.id == Enrollment.patient_id)
        .where(
            Patient.store_id == store.id, Enrollment.created_at >= lo, Enrollment.created_at < hi
        )
    )
    report.new_enrollments = session.scalar(select(func.count()).select_from(new.subquery())) or 0
    reasons = session.execute(
        select(Enrollment.disenroll_reason, func.count())
        .join(Patient, Patient.id == Enrollment.patient_id)
        .where(
            Patient.store_id == store.id,
            Enrollment.disenrolled_at >= lo,
            Enrollment.disenrolled_at < hi,
        )
        .group_by(Enrollment.disenroll_reason)
    ).all()
    for reason, count in reasons:
        report.disenroll_reasons[reason or "no reason given"] += count
    # Initial sync: a new enrollment whose fill was picked up or delivered by the period's end.
    synced = session.scalar(
        select(func.count(func.distinct(Fill.patient_id))).where(
            Fill.patient_id.in_(new),
            Fill.state.in_(CLOSED_FILL_STATES),
            Fill.closed_at < hi,
        )
    )
    report.pqa["initial_sync_rate"] = Ratio(synced or 0, report.new_enrollments)
    # Continuation: everyone whose mark falls in the period, judged at that mark.
    longest = max(CONTINUATION_DAYS.values())
    cohort = session.execute(
        _in_program(session, store).where(
            Enrollment.created_at >= lo - dt.timedelta(days=longest),
            Enrollment.created_at < hi,
        )
    ).all()
    for name, days in CONTINUATION_DAYS.items():
        ratio = report.pqa[name]
        for row in cohort:
            mark = row.created_at + dt.timedelta(days=days)
            if not lo <= mark < hi:
                continue
            ratio.denominator += 1
            left = [t for t in (row.disenrolled_at, row.opted_out_at) if t is not None]
            if not any(t < mark for t in left):
                ratio.numerator += 1


def _outreach_measures(
    session: Session, store: Store, lo: dt.datetime, hi: dt.datetime, report: ProgramReport
) -> None:
    first_contact = (
        select(Message.patient_id, func.min(Message.created_at).label("first_at"))
        .where(
            Message.store_id == store.id,
            Message.direction == Direction.OUTBOUND,
            Message.purpose.in_(OUTREACH_PURPOSES),
            Message.status.not_in(NOT_SENT_STATUSES),
            Message.patient_id.is_not(None),
            Message.created_at >= lo,
            Message.created_at < hi,
        )
        .group_by(Message.patient_id)
        .subquery()
    )
    answered = exists().where(
        Message.patient_id == first_contact.c.patient_id,
        Message.direction == Direction.INBOUND,
        Message.created_at >= first_contact.c.first_at,
        Message.created_at < hi,
    )
    opted_out = exists().where(
        Patient.id == first_contact.c.patient_id,
        Patient.opted_out_at >= lo,
        Patient.opted_out_at < hi,
    )
    row = session.execute(
        select(
            func.count(),
            func.count().filter(answered),
            func.count().filter(opted_out),
        ).select_from(first_contact)
    ).one()
    report.contacted, report.responded, report.opted_out = row[0], row[1], row[2]


def _checkin_measures(
    session: Session, store: Store, period: Period, report: ProgramReport
) -> None:
    contacted = exists().where(
        Message.checkin_id == Checkin.id,
        Message.direction == Direction.OUTBOUND,
        Message.purpose.in_(CHECKIN_PURPOSES),
        Message.status.not_in(NOT_SENT_STATUSES),
    )
    first_answer = (
        select(func.min(Message.created_at))
        .where(Message.checkin_id == Checkin.id, Message.direction == Direction.INBOUND)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Checkin.anchor_date,
            Checkin.status,
            Checkin.channel,
            Patient.language,
            Patient.timezone,
            contacted,
            first_answer,
        )
        .join(Patient, Patient.id == Checkin.patient_id)
        .where(
            Checkin.store_id == store.id,
            Checkin.anchor_date >= period.start,
            Checkin.anchor_date <= period.end,
        )
    ).all()
    contact = report.pqa["patient_contact_rate"]
    for anchor, status, channel, language, timezone, was_contacted, answered_at in rows:
        report.checkins[status.value] += 1
        report.due_per_day[anchor] += 1
        answered = answered_at is not None
        for segment in (report.by_channel[channel.value], report.by_language[language.value]):
            segment.checkins += 1
            segment.contacted += bool(was_contacted)
            segment.responded += bool(was_contacted) and answered
        contact.denominator += 1
        if answered:
            local_day = answered_at.astimezone(ZoneInfo(timezone or store.timezone)).date()
            contact.numerator += local_day < anchor


def _item_measures(
    session: Session, store: Store, lo: dt.datetime, hi: dt.datetime, report: ProgramReport
) -> None:
    for kind, count in session.execute(
        select(QueueItem.kind, func.count())
        .where(
            QueueItem.store_id == store.id, QueueItem.created_at >= lo, QueueItem.created_at < hi
        )
        .group_by(QueueItem.kind)
    ):
        report.items[kind.value] += count
    for raised, resolved in session.execute(
        select(QueueItem.created_at, QueueItem.resolved_at).where(
            QueueItem.store_id == store.id,
            QueueItem.resolved_at >= lo,
            QueueItem.resolved_at < hi,
        )
    ):
        if resolved is not None:  # the filter says so; the type does not know it
            report.clear_hours.append(max((resolved - raised).total_seconds(), 0.0) / 3600)


def _fill_measures(
    session: Session,
    store: Store,
    period: Period,
    lo: dt.datetime,
    hi: dt.datetime,
    report: ProgramReport,
) -> None:
    for anchor, count in session.execute(
        select(Fill.anchor_date, func.count())
        .where(
            Fill.store_id == store.id,
            Fill.state.in_(CLOSED_FILL_STATES),
            and_(Fill.anchor_date >= period.start, Fill.anchor_date <= period.end),
        )
        .group_by(Fill.anchor_date)
    ):
        report.filled_per_day[anchor] += count


def enrolled_patient_ids(session: Session, store_ids: Collection[int]) -> set[str]:
    """The PMS ids of the patients enrolled now in the caller's stores (for the PDC upload)."""
    return set(
        session.scalars(
            select(Patient.external_id)
            .join(Enrollment, Enrollment.patient_id == Patient.id)
            .where(Patient.store_id.in_(store_ids), Enrollment.active.is_(True))
        )
    )


def csv_rows(report: ChainReport) -> list[tuple[str, str, str]]:
    """(store, measure, value) rows: each store, then "all" for a chain's total."""
    named = [(one.stores[0], one) for one in report.per_store]
    if len(named) != 1:
        named.append(("all", report.total))
    return [
        (store, measure, value)
        for store, one in named
        for measure, value in _flatten(one.to_json())
    ]


def _flatten(answer: dict[str, Any], prefix: str = "") -> Iterable[tuple[str, str]]:
    for key, value in answer.items():
        if key in ("from", "to", "stores") and prefix == "":
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, f"{name}.")
        elif isinstance(value, list):
            for entry in value:  # fills_per_day
                day = entry["date"]
                yield from ((f"{name}.{day}.{k}", str(v)) for k, v in entry.items() if k != "date")
        else:
            yield name, str(value)
