"""The fill day (SPEC 13): one read model for the page, the API and the CSV export, and the
fill-state changes both doors share.

**The list.** One row per patient due on the anchor date, whatever their check-in did: the
check-in status and topic summary, the open items, the delivery choice and, per maintenance
medicine, the action of the sync plan (planning/sync.py, planned for that anchor as of that
day):

* `fill`: due on or before the anchor (or its due date is unknown: staff check it);
* `short_fill` with its quantity: still has supply on the anchor and can be cut to reach the
  next one (the plan's quantity is the same whether dispensed now or on its due date);
* `not_due`: still has supply and cannot (or need not) be short-filled;
* `hold`: an open item calls for a look first: a reported medication change or a hospital
  stay holds every maintenance medicine; an item about one medicine holds that one;
* `renewal_needed`: to be filled (or short-filled) with no refills left. The renewals work
  (another module) updates `refills_remaining` when a prescriber approves, and the row
  follows it.

PRN medicines are not planned: the list shows the as-needed items the patient asked for
(`prn_need` items of this check-in, or still open). Rows sort so what blocks a fill comes
first: holds, then open items and renewals, then patients who did not answer, then those
outreach does not reach (no consent, opted out, paused), then the ready to fill; rows already
picked up or delivered go last.

**Fill states.** `to_prepare -> prepared -> ready -> picked_up | delivered`, `on_hold` (with a
note) from any open state, and back from `on_hold` to `to_prepare` or `prepared`. Picked up is
for pickup fills, delivered for delivery fills. A row gets its `fills` row the first time staff
act on it (`ensure_fill`); the page and the API address a row by enrollment and date
(`/api/fills/<id>/state` also by the fill's id once it exists). Each change is audited
(`fill_state`). Marking `ready` starts the clock of the ready notice, which the scheduler sends
inside the patient's window and caps (scheduler/ready.py): the one place that knows both.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from bot.items import Refusal, Result
from bot.summary import topic_summary
from dialogs import TOPIC_NAMES
from planning.sync import ItemStatus, Medication, PlanItem, plan_sync
from store import fills as fill_store
from store.audit import record_audit
from store.models import (
    CheckinStatus,
    Delivery,
    Enrollment,
    Fill,
    FillState,
    Package,
    QueueKind,
    QueueStatus,
)
from store.roster import RosterStatus

if TYPE_CHECKING:
    from bot.access import Staff


class Action(StrEnum):
    """What to do with one medicine on the fill day (SPEC 5.3's `medicines[].action`)."""

    FILL = "fill"
    SHORT_FILL = "short_fill"
    HOLD = "hold"
    RENEWAL_NEEDED = "renewal_needed"
    NOT_DUE = "not_due"


ACTION_LABELS: Mapping[Action, str] = MappingProxyType(
    {
        Action.FILL: "Fill",
        Action.SHORT_FILL: "Short fill",
        Action.HOLD: "Hold",
        Action.RENEWAL_NEEDED: "Renewal needed",
        Action.NOT_DUE: "Not due",
    }
)
STATE_LABELS: Mapping[FillState, str] = MappingProxyType(
    {
        FillState.TO_PREPARE: "To prepare",
        FillState.PREPARED: "Prepared",
        FillState.READY: "Ready",
        FillState.PICKED_UP: "Picked up",
        FillState.DELIVERED: "Delivered",
        FillState.ON_HOLD: "On hold",
    }
)
# The button that moves a fill from one state to another.
MOVE_LABELS: Mapping[tuple[FillState, FillState], str] = MappingProxyType(
    {
        (old, new): (
            "Release hold"
            if old is FillState.ON_HOLD and new is FillState.TO_PREPARE
            else f"Mark {STATE_LABELS[new].lower()}"
        )
        for old in FillState
        for new in FillState
    }
)
TOPIC_LABELS: Mapping[str, str] = MappingProxyType(
    {topic: name.capitalize() for topic, name in TOPIC_NAMES.items()}
)
# Open items that hold every maintenance medicine until a pharmacist has looked.
HOLDING_KINDS = frozenset({QueueKind.MED_CHANGE, QueueKind.HEALTH_CHANGE})
NOTE_MAX_LENGTH = 500

# The moves staff may make; on_hold needs a note.
TRANSITIONS: Mapping[FillState, frozenset[FillState]] = MappingProxyType(
    {
        FillState.TO_PREPARE: frozenset({FillState.PREPARED, FillState.ON_HOLD}),
        FillState.PREPARED: frozenset({FillState.READY, FillState.ON_HOLD}),
        FillState.READY: frozenset({FillState.PICKED_UP, FillState.DELIVERED, FillState.ON_HOLD}),
        FillState.ON_HOLD: frozenset({FillState.TO_PREPARE, FillState.PREPARED}),
        FillState.PICKED_UP: frozenset(),
        FillState.DELIVERED: frozenset(),
    }
)


def _moves(state: FillState, delivery: Delivery) -> tuple[FillState, ...]:
    final = FillState.DELIVERED if delivery is Delivery.DELIVERY else FillState.PICKED_UP
    return tuple(
        s
        for s in FillState
        if s in TRANSITIONS[state] and (s not in fill_store.CLOSED_STATES or s is final)
    )


# A row's moves by (state, delivery), in FillState's order: worked out once, not per row.
MOVES: Mapping[tuple[FillState, Delivery], tuple[FillState, ...]] = MappingProxyType(
    {(state, delivery): _moves(state, delivery) for state in FillState for delivery in Delivery}
)


class Blocker(StrEnum):
    """Why a row is not simply ready to fill, most urgent first (the list's sort order)."""

    HOLD = "hold"  # a medicine on hold or the fill itself on hold
    OPEN_ITEMS = "open_items"  # items for staff, or a renewal to ask for
    NO_ANSWER = "no_answer"  # the check-in is not over, or ended without an answer
    NOT_CONTACTED = "not_contacted"  # no consent, opted out, paused: outreach does not reach


BLOCKER_LABELS: Mapping[Blocker, str] = MappingProxyType(
    {
        Blocker.HOLD: "On hold",
        Blocker.OPEN_ITEMS: "Needs staff",
        Blocker.NO_ANSWER: "No answer",
        Blocker.NOT_CONTACTED: "Not contacted",
    }
)
_NO_ANSWER = frozenset(
    {
        CheckinStatus.SCHEDULED,
        CheckinStatus.IN_PROGRESS,
        CheckinStatus.INCOMPLETE,
        CheckinStatus.UNREACHABLE,
        CheckinStatus.EXPIRED,
    }
)


@dataclass(frozen=True)
class MedicineRow:
    name: str
    action: Action
    quantity: int | None  # short fills: whole units
    reason: str
    days_supply: int | None = None  # of this fill: a short fill's days, else the medicine's

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "action": self.action,
            "quantity": self.quantity,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ItemRef:
    id: int
    kind: QueueKind
    text: str | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "text": self.text}


@dataclass(slots=True)  # not frozen: a frozen __init__ costs twice as much, 2,000 times a list
class FillRow:
    """One patient's row of the fill-day list."""

    enrollment_id: int
    patient_pk: int
    patient_id: str  # the PMS id
    patient_name: str
    last_name: str
    first_name: str
    birth_date: dt.date | None
    store: str
    anchor_date: dt.date
    fill_id: int | None
    state: FillState
    note: str | None
    delivery: Delivery
    checkin_id: int | None
    checkin_status: CheckinStatus | None
    roster_status: RosterStatus
    topics: dict[str, str]
    open_items: tuple[ItemRef, ...]
    prn_requests: tuple[ItemRef, ...]
    medicines: tuple[MedicineRow, ...]
    blocker: Blocker | None
    ready_at: dt.datetime | None
    ready_notice_at: dt.datetime | None
    medicine_ids: tuple[int, ...] = ()  # the ids of `medicines`, in their order (exports)

    @property
    def closed(self) -> bool:
        return self.state in fill_store.CLOSED_STATES

    @property
    def bulk_preparable(self) -> bool:
        """Confirmed (or flagged with every item cleared), nothing blocking, not started:
        what "mark prepared" takes."""
        return (
            self.checkin_status in (CheckinStatus.CONFIRMED, CheckinStatus.FLAGGED)
            and self.blocker is None
            and self.state is FillState.TO_PREPARE
        )

    @property
    def reported_topics(self) -> list[str]:
        """What the patient reported (the topics' names as staff call them), for the page."""
        return [TOPIC_LABELS[t] for t, state in self.topics.items() if state == "reported"]

    @property
    def moves(self) -> tuple[FillState, ...]:
        """The states staff may move this row to (picked up or delivered as it goes)."""
        return MOVES[self.state, self.delivery]

    def to_json(self) -> dict[str, Any]:
        """The row for the API. The states, actions and kinds are StrEnums, so strings: JSON
        writes their values as they are (no `.value` per field and row)."""
        return {
            "id": self.fill_id,
            "enrollment_id": self.enrollment_id,
            "patient_id": self.patient_id,
            "patient_name": self.patient_name,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "store": self.store,
            "anchor_date": self.anchor_date.isoformat(),
            "state": self.state,
            "note": self.note,
            "delivery": self.delivery,
            "checkin_id": self.checkin_id,
            "checkin_status": self.checkin_status,
            "roster_status": self.roster_status,
            "topics": self.topics,
            "open_items": [item.to_json() for item in self.open_items],
            "prn_requests": [item.to_json() for item in self.prn_requests],
            "medicines": [medicine.to_json() for medicine in self.medicines],
            "blocker": self.blocker,
            "ready_at": self.ready_at.isoformat() if self.ready_at else None,
            "ready_notice_sent": self.ready_notice_at is not None,
        }


@dataclass
class FillDay:
    day: dt.date
    rows: list[FillRow] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Rows per blocker (and "ready_to_fill"), for the page's heading."""
        found: dict[str, int] = defaultdict(int)
        for row in self.rows:
            found[row.blocker.value if row.blocker else "ready_to_fill"] += 1
        return dict(found)


# --- The read model --------------------------------------------------------------------------


def fill_day(
    session: Session, store_ids: Iterable[int], day: dt.date, *, only: int | None = None
) -> FillDay:
    """Build the fill-day list of `day` for `store_ids` (four queries, whatever the size);
    `only`: the one row of that enrollment."""
    data = fill_store.read_day(session, list(store_ids), day, only)
    medicines: dict[int, list[fill_store.DayMedicine]] = defaultdict(list)
    for medicine in data.medicines:
        medicines[medicine.patient_id].append(medicine)
    items: dict[int | None, list[fill_store.DayItem]] = defaultdict(list)
    for item in data.items:
        items[item.patient_id].append(item)
    rows = [
        _row(
            patient,
            day,
            data.stores[patient.store_id],
            medicines.get(patient.patient_id, ()),
            items.get(patient.patient_id, ()),
        )
        for patient in data.patients
    ]
    rows.sort(key=_sort_key)
    return FillDay(day, rows)


def fill_row(
    session: Session, store_ids: Iterable[int], enrollment_id: int, day: dt.date
) -> FillRow | None:
    """One row of the list (after a change), None when it is not on that day's list."""
    rows = fill_day(session, store_ids, day, only=enrollment_id).rows
    return rows[0] if rows else None


_BLOCKER_ORDER = {blocker: n for n, blocker in enumerate(Blocker)}


def _sort_key(row: FillRow) -> tuple[int, int, str, str, int]:
    rank = _BLOCKER_ORDER[row.blocker] if row.blocker else len(_BLOCKER_ORDER)
    return (row.closed, rank, row.last_name.casefold(), row.first_name.casefold(), row.patient_pk)


def _row(
    patient: fill_store.DayPatient,
    day: dt.date,
    store_code: str,
    medicines: Sequence[fill_store.DayMedicine],
    items: Sequence[fill_store.DayItem],
) -> FillRow:
    checkin_id = patient.checkin_id
    active = [i for i in items if i.status is not QueueStatus.RESOLVED]
    open_items = tuple(ItemRef(i.id, i.kind, i.text) for i in active)
    prn_requests = tuple(
        ItemRef(i.id, i.kind, i.text)
        for i in items
        if i.kind == QueueKind.PRN_NEED
        and (i.status is not QueueStatus.RESOLVED or i.checkin_id == checkin_id)
    )
    planned = _medicine_rows(medicines, day, patient.cycle_days, active) if medicines else ()
    status = patient.checkin_status
    state = patient.fill_state or FillState.TO_PREPARE
    roster_status = RosterStatus(patient.roster_status)
    return FillRow(
        enrollment_id=patient.enrollment_id,
        patient_pk=patient.patient_id,
        patient_id=patient.external_id,
        patient_name=f"{patient.first_name} {patient.last_name}",
        last_name=patient.last_name,
        first_name=patient.first_name,
        birth_date=patient.birth_date,
        store=store_code,
        anchor_date=day,
        fill_id=patient.fill_id,
        state=state,
        note=patient.note,
        delivery=patient.fill_delivery or patient.delivery,
        checkin_id=checkin_id,
        checkin_status=status,
        roster_status=roster_status,
        topics=topic_summary(patient.topics),
        open_items=open_items,
        prn_requests=prn_requests,
        medicines=planned,
        blocker=_blocker(state, planned, open_items, status, roster_status),
        ready_at=patient.ready_at,
        ready_notice_at=patient.ready_notice_at,
        medicine_ids=tuple(medicine.id for medicine in medicines),
    )


def _blocker(
    state: FillState,
    medicines: Sequence[MedicineRow],
    open_items: Sequence[ItemRef],
    status: CheckinStatus | None,
    roster_status: RosterStatus,
) -> Blocker | None:
    actions = {m.action for m in medicines}
    if state is FillState.ON_HOLD or Action.HOLD in actions:
        return Blocker.HOLD
    if open_items or Action.RENEWAL_NEEDED in actions:
        return Blocker.OPEN_ITEMS
    if roster_status is not RosterStatus.ENROLLED or status is CheckinStatus.OPTED_OUT:
        return Blocker.NOT_CONTACTED
    if status is None or status in _NO_ANSWER:
        return Blocker.NO_ANSWER
    return None


def _medicine_rows(
    medicines: Sequence[fill_store.DayMedicine],
    day: dt.date,
    cycle_days: int,
    active_items: Sequence[fill_store.DayItem],
) -> tuple[MedicineRow, ...]:
    """The maintenance medicines' actions. Most patients have no active item: then each row
    is the cached `_medicine_row` of its columns alone."""
    holding: fill_store.DayItem | None = None
    about: dict[int, fill_store.DayItem] = {}
    for item in active_items:
        if holding is None and item.kind in HOLDING_KINDS:
            holding = item
        if item.medicine_id is not None and item.kind != QueueKind.RENEWAL_NEEDED:
            about[item.medicine_id] = item  # the last one, as the reason names it
    rows = []
    for medicine in medicines:
        hold_for = about.get(medicine.id) or holding
        rows.append(
            _medicine_row(medicine[2:], day, cycle_days, hold_for.kind if hold_for else None)
        )
    return tuple(rows)


@functools.lru_cache(maxsize=16384)
def _medicine_row(
    columns: tuple[Any, ...], day: dt.date, cycle_days: int, hold_kind: QueueKind | None
) -> MedicineRow:
    """One medicine's row from its planning columns (`DayMedicine` from `name` on), the day,
    the cycle and the kind of the item that holds it. Cached: with an anchor given, a
    medicine's plan depends on its own columns alone, and patients in sync share them (last
    fill a cycle before the anchor), so a whole day's list needs a few hundred plans at most,
    not one per medicine."""
    medicine = fill_store.DayMedicine._make((0, 0, *columns))
    item = _plan_item(medicine, day, cycle_days)
    action, quantity, reason = _action(item, day)
    days = item.short_days if action is Action.SHORT_FILL else medicine.days_supply
    if hold_kind is not None and action in (Action.FILL, Action.SHORT_FILL):
        action, quantity = Action.HOLD, None
        reason = f"open {hold_kind.value.replace('_', ' ')} item: {reason}"
    elif medicine.refills_remaining == 0 and action in (Action.FILL, Action.SHORT_FILL):
        action, quantity = Action.RENEWAL_NEEDED, None
        reason = "no refills left: ask the prescriber for a new prescription"
    return MedicineRow(medicine.name, action, quantity, reason, days)


def _plan_item(medicine: fill_store.DayMedicine, day: dt.date, cycle_days: int) -> PlanItem:
    """The sync plan of one maintenance medicine for anchor `day` as of that day."""
    medication = Medication(
        name=medicine.name,
        days_supply=medicine.days_supply,
        last_fill_date=medicine.last_fill_date,
        refills_remaining=medicine.refills_remaining,
        quantity=medicine.quantity,
        daily_dose=medicine.daily_dose,
        package="whole" if medicine.package == Package.WHOLE else "splittable",
        controlled=medicine.controlled,
    )
    return plan_sync([medication], day, cycle_days=cycle_days, today=day).items[0]


def _action(item: PlanItem, day: dt.date) -> tuple[Action, int | None, str]:
    """The sync plan's item as a fill-day action."""
    if item.status is ItemStatus.MISSING_DATA or item.fill_on is None:
        return Action.FILL, None, f"{item.reason}: check before filling"
    if item.fill_on <= day:
        return Action.FILL, None, item.reason
    if item.status is ItemStatus.SHORT_FILL and item.short_quantity is not None:
        return Action.SHORT_FILL, item.short_quantity, item.reason
    return Action.NOT_DUE, None, f"due {item.fill_on}: {item.reason}"


# --- State changes --------------------------------------------------------------------------


def change_state(
    session: Session,
    staff: Staff,
    enrollment: Enrollment,
    day: dt.date,
    target: str,
    note: str | None,
    now: dt.datetime,
    *,
    actor: str,
) -> Result:
    """Move the fill of (enrollment, day) to `target`; say what happened or why not.

    The caller found `enrollment` in the staff member's stores (`fill_store.get_enrollment`).
    Checks the input, that the row is on that day's list, then the transition from the state
    as read; creates the fill row on the first action; audits; the caller commits.
    """
    if target not in FillState._value2member_map_:
        return Result(f"Unknown state {target!r}.", Refusal.INVALID)
    new = FillState(target)
    clean_note = (note or "").strip()
    if len(clean_note) > NOTE_MAX_LENGTH:
        return Result(
            f"The note is too long (at most {NOTE_MAX_LENGTH} characters).", Refusal.INVALID
        )
    if new is FillState.ON_HOLD and not clean_note:
        return Result("Say why the fill is on hold (a note is required).", Refusal.INVALID)
    if not fill_store.is_due_on(session, enrollment, day):
        return Result(f"This patient has no fill on {day}.", Refusal.CONFLICT)
    fill = fill_store.ensure_fill(session, enrollment, day, now)
    return _move(session, staff, fill, new, clean_note or None, now, actor=actor)


def change_fill_state(
    session: Session,
    staff: Staff,
    fill: Fill,
    target: str,
    note: str | None,
    now: dt.datetime,
    *,
    actor: str,
) -> Result:
    """`change_state` for a fill that already has its row (the API's `/api/fills/<id>`)."""
    enrollment = fill_store.get_enrollment(session, staff.store_ids, fill.enrollment_id)
    assert enrollment is not None  # the fill is in the staff member's stores
    return change_state(
        session, staff, enrollment, fill.anchor_date, target, note, now, actor=actor
    )


def _move(
    session: Session,
    staff: Staff,
    fill: Fill,
    new: FillState,
    note: str | None,
    now: dt.datetime,
    *,
    actor: str,
) -> Result:
    old = fill.state
    if new is old:
        return Result(f"This fill is already {STATE_LABELS[old].lower()}.", Refusal.CONFLICT)
    if new not in TRANSITIONS[old]:
        return Result(
            f"A fill that is {STATE_LABELS[old].lower()} cannot be marked "
            f"{STATE_LABELS[new].lower()}.",
            Refusal.CONFLICT,
        )
    if new is FillState.PICKED_UP and fill.delivery is Delivery.DELIVERY:
        return Result("This fill is for delivery: mark it delivered.", Refusal.CONFLICT)
    if new is FillState.DELIVERED and fill.delivery is Delivery.PICKUP:
        return Result("This fill is for pickup: mark it picked up.", Refusal.CONFLICT)
    moved = fill_store.move_state(session, fill.id, old, new, note=note, user_id=staff.id, now=now)
    if not moved:
        return Result("Someone changed this fill meanwhile; look again.", Refusal.CONFLICT)
    record_audit(
        session,
        "fill_state",
        actor=actor,
        user_id=staff.id,
        store_id=fill.store_id,
        patient_id=fill.patient_id,
        target=f"fill:{fill.id}",
        detail=_detail(old, new, fill.anchor_date, note),
    )
    return Result(f"Marked {STATE_LABELS[new].lower()}.")


def _detail(old: FillState, new: FillState, day: dt.date, note: str | None) -> dict[str, object]:
    detail: dict[str, object] = {"from": old.value, "to": new.value, "date": day.isoformat()}
    if note:
        detail["note"] = note
    return detail


def prepare_confirmed(
    session: Session, staff: Staff, day: dt.date, now: dt.datetime, *, actor: str
) -> int:
    """Mark prepared every confirmed row with nothing blocking that is still to prepare;
    return how many moved (each one audited)."""
    moved = 0
    for row in fill_day(session, staff.store_ids, day).rows:
        enrollment = (
            fill_store.get_enrollment(session, staff.store_ids, row.enrollment_id)
            if row.bulk_preparable
            else None
        )
        if enrollment is not None:
            result = change_state(
                session, staff, enrollment, day, FillState.PREPARED, None, now, actor=actor
            )
            moved += result.ok
    return moved


def set_delivery(
    session: Session,
    staff: Staff,
    enrollment: Enrollment,
    day: dt.date,
    choice: str,
    now: dt.datetime,
    *,
    actor: str,
) -> Result:
    """Staff set pickup or delivery: the patient's standing choice, and their open fills."""
    if choice not in Delivery._value2member_map_:
        return Result("Choose pickup or delivery.", Refusal.INVALID)
    from store import patients  # store.patients imports store.fills: keep this one local

    delivery = Delivery(choice)
    patients.set_delivery(session, enrollment.patient_id, delivery, now)
    record_audit(
        session,
        "fill_delivery",
        actor=actor,
        user_id=staff.id,
        store_id=enrollment.patient.store_id,
        patient_id=enrollment.patient_id,
        detail={"delivery": delivery.value, "date": day.isoformat()},
    )
    return Result("Pickup." if delivery is Delivery.PICKUP else "Delivery.")


# --- Export ---------------------------------------------------------------------------------

CSV_COLUMNS = ("patient_id", "patient", "medicine", "action", "quantity", "state", "note")


def export_csv(day: FillDay) -> str:
    """The day's decisions as CSV for the PMS: one line per maintenance medicine and PRN
    request (a patient with neither gets one line without a medicine)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in day.rows:
        lines: list[tuple[str, str, str]] = [
            (m.name, m.action.value, "" if m.quantity is None else str(m.quantity))
            for m in row.medicines
        ]
        lines += [(f"as needed: {p.text or ''}", "prn_request", "") for p in row.prn_requests]
        for medicine, action, quantity in lines or [("", "", "")]:
            writer.writerow(
                (
                    _safe_cell(row.patient_id),
                    _safe_cell(row.patient_name),
                    _safe_cell(medicine),
                    action,
                    quantity,
                    row.state.value,
                    _safe_cell(row.note or ""),
                )
            )
    return out.getvalue()


def _safe_cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
