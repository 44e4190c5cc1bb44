"""Sync planning: when each medicine is due, and how to bring it to the anchor date.

The arithmetic follows reference/domain.md 3.4:

* next due = last fill + days supply (days supply = floor(quantity / daily dose) when only
  those are known); the supply runs out the day before;
* an item due before the anchor gets a short fill on its due date that lasts exactly until
  the anchor: short days = anchor - due, short quantity = short days x daily dose, rounded
  **up** to whole units so the patient is never left without a dose; a gap longer than one
  fill is bridged with regular fills first (`full_fills`) and the remainder short-filled;
* an item due after the anchor still has supply on the anchor: it joins the cycle on the first
  anchor date of the cycle (anchor + k x cycle_days) on or after its due date, with a short
  fill on its due date for the days in between (the same quantity as dispensing
  cycle - surplus days on the anchor, but never "too soon" for the insurer);
* items in whole packages (insulin pens, inhalers, eye drops, liquids), controlled substances
  and as-needed (PRN) medicines are never short-filled; each is reported with the reason.

The suggested anchor: a whole-package maintenance item cannot be cut to fit, so its due date
anchors the cycle; otherwise every date of the cycle that starts when the first medicine runs
out is tried and the one needing the fewest short-fill days wins, ties going to the date on
which the most medicines fall due, then to the earliest. Dates the caller says to avoid (the
store's full days, store/workload.py) lose to any other date: short fills happen once, when
the patient starts, while the anchor date comes back every cycle. Controlled and PRN
medicines never anchor. Missing data never raises: the item says what is missing.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Literal

DEFAULT_CYCLE_DAYS = 30


class ItemStatus(enum.StrEnum):
    ALIGNED = "aligned"  # due on an anchor date: nothing to short-fill
    SHORT_FILL = "short_fill"
    CANNOT_SHORT_FILL = "cannot_short_fill"  # whole package, controlled or PRN
    MISSING_DATA = "missing_data"


@dataclass(frozen=True)
class Medication:
    """One of the patient's medicines, with the planning columns of SPEC 5.4."""

    name: str
    med_type: Literal["maintenance", "prn"] = "maintenance"
    days_supply: int | None = None
    last_fill_date: dt.date | None = None
    refills_remaining: int | None = None
    quantity: float | None = None  # units dispensed per fill
    daily_dose: float | None = None  # units taken per day
    package: Literal["splittable", "whole"] = "splittable"
    controlled: bool = False

    @property
    def supply_days(self) -> int | None:
        """Return the days one fill lasts: days_supply, else floor(quantity / daily_dose)."""
        if self.days_supply is not None and self.days_supply > 0:
            return self.days_supply
        if self.quantity and self.daily_dose and self.daily_dose > 0:
            days = math.floor(_exact(self.quantity) / _exact(self.daily_dose))
            return days if days > 0 else None
        return None


@dataclass(frozen=True)
class PlanItem:
    """What to do with one medicine to bring it to the anchor."""

    name: str
    status: ItemStatus
    reason: str  # one sentence for the pharmacist
    due_date: dt.date | None = None  # when the current supply runs out (next fill due)
    fill_on: dt.date | None = None  # when to dispense (the due date, or today if overdue)
    align_to: dt.date | None = None  # the anchor date from which it is filled with the rest
    full_fills: int = 0  # regular fills needed before the short fill
    short_days: int = 0
    short_quantity: int | None = None  # whole units
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        """Return a JSON-ready dict (dates as YYYY-MM-DD)."""
        return {
            "name": self.name,
            "status": str(self.status),
            "reason": self.reason,
            "due_date": _iso(self.due_date),
            "fill_on": _iso(self.fill_on),
            "align_to": _iso(self.align_to),
            "full_fills": self.full_fills,
            "short_days": self.short_days,
            "short_quantity": self.short_quantity,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class AnchorSuggestion:
    anchor: dt.date | None
    reason: str


@dataclass(frozen=True)
class SyncPlan:
    """A patient's plan for one anchor date."""

    anchor: dt.date | None
    cycle_days: int
    items: tuple[PlanItem, ...]
    suggestion: AnchorSuggestion | None = None  # set when the anchor was suggested
    reason: str = ""  # why this anchor

    @property
    def total_short_days(self) -> int:
        return sum(item.short_days for item in self.items)

    @property
    def short_fills(self) -> int:
        return sum(1 for item in self.items if item.short_days > 0)

    def to_json(self) -> dict[str, object]:
        """Return a JSON-ready dict (dates as YYYY-MM-DD)."""
        return {
            "anchor": _iso(self.anchor),
            "suggested": self.suggestion is not None,
            "reason": self.reason,
            "cycle_days": self.cycle_days,
            "total_short_days": self.total_short_days,
            "items": [item.to_json() for item in self.items],
        }


def next_due_date(med: Medication) -> dt.date | None:
    """Return last fill + days supply, or None when either is unknown."""
    days = med.supply_days
    if med.last_fill_date is None or days is None:
        return None
    return med.last_fill_date + dt.timedelta(days=days)


def plan_sync(
    medications: Iterable[Medication],
    anchor: dt.date | None = None,
    *,
    cycle_days: int = DEFAULT_CYCLE_DAYS,
    today: dt.date | None = None,
    avoid: frozenset[dt.date] = frozenset(),
) -> SyncPlan:
    """Plan every medicine for `anchor`, or for the suggested anchor when it is None.

    `today`, when given, moves overdue due dates to today (the patient is already out; the
    fill cannot happen in the past) and keeps the suggestion from proposing a past date.
    `avoid`: dates the suggestion takes only when no other date of the cycle is possible.
    """
    if cycle_days < 1:
        raise ValueError("cycle_days must be at least 1")
    meds = list(medications)
    suggestion = None
    if anchor is None:
        suggestion = suggest_anchor(meds, cycle_days=cycle_days, today=today, avoid=avoid)
        anchor = suggestion.anchor
        reason = suggestion.reason
    else:
        reason = "anchor chosen by the pharmacy"
    items = tuple(_plan_item(med, anchor, cycle_days, today) for med in meds)
    return SyncPlan(anchor, cycle_days, items, suggestion, reason)


def suggest_anchor(
    medications: Sequence[Medication],
    *,
    cycle_days: int = DEFAULT_CYCLE_DAYS,
    today: dt.date | None = None,
    avoid: frozenset[dt.date] = frozenset(),
) -> AnchorSuggestion:
    """Suggest the anchor date that needs the least short-filling, and say why; a date in
    `avoid` (a full day of the store) only when the cycle offers no other."""
    dated = [
        (med, due)
        for med in medications
        if med.med_type == "maintenance"
        and not med.controlled
        and (due := _effective_due(med, today)) is not None
    ]
    if not dated:
        return AnchorSuggestion(
            None,
            "no anchor to suggest: no maintenance medicine that can be synchronized has "
            "a known due date",
        )
    due_dates = [due for _, due in dated]
    start = min(due_dates)
    whole = [(med, due) for med, due in dated if med.package == "whole"]
    if whole:
        # An anchor date of the cycle must fall on a whole package's due date: that date, or
        # the date of the first cycle that leads to it.
        pins = {due for _, due in whole}
        offsets = {(due - start).days % cycle_days for due in pins}
        candidates = sorted(pins | {start + dt.timedelta(days=n) for n in offsets})
    else:
        # Every date of the cycle that starts when the first medicine runs out. An earlier date
        # gives the same fills as one of these (one cycle on); a later one would bridge the
        # first medicine for more than a cycle before the patient is in sync.
        candidates = [start + dt.timedelta(days=n) for n in range(cycle_days)]
    best = _best_anchor(medications, due_dates, candidates, cycle_days, today, avoid)
    full = ""
    if avoid:
        unconstrained = _best_anchor(medications, due_dates, candidates, cycle_days, today)
        if unconstrained.anchor != best.anchor:
            full = (
                f"; {unconstrained.anchor} would need {unconstrained.short_days} short-fill "
                "days but the store is at its daily fill limit then"
            )
        elif best.anchor in avoid:
            full = "; the store is at its daily fill limit then, but no other date fits"
    if whole:
        # The whole-package items that this anchor (or a later date of its cycle) lands on.
        pins_on = [
            (med.name, due) for med, due in whole if (due - best.anchor).days % cycle_days == 0
        ]
        names = _names([name for name, _ in pins_on])
        verb = "are" if len(pins_on) > 1 else "is"
        due_on = ", ".join(sorted({str(due) for _, due in pins_on}))
        later = "" if all(due == best.anchor for _, due in pins_on) else " (a date of this cycle)"
        tried = f"{best.short_days} short-fill days in all"
        if len(candidates) > 1:
            tried += f", the fewest of the {len(candidates)} dates it allows"
        return AnchorSuggestion(
            best.anchor,
            f"{names} cannot be short-filled (whole package) and {verb} due {due_on}{later}: "
            f"it anchors the cycle; {tried}{full}",
        )
    due_then = [med.name for med, due in dated if due == best.anchor]
    why = f"the due date of {_names(due_then)}; it needs" if due_then else "it needs"
    return AnchorSuggestion(
        best.anchor,
        f"{best.anchor}: {why} {best.short_days} short-fill days in all, the fewest of the "
        f"{cycle_days} dates of the cycle from {start}{full}",
    )


@dataclass(frozen=True)
class _Score:
    anchor: dt.date
    short_days: int
    shared: int  # items due on that very date


def _best_anchor(
    medications: Sequence[Medication],
    due_dates: Sequence[dt.date],
    candidates: Sequence[dt.date],
    cycle_days: int,
    today: dt.date | None,
    avoid: frozenset[dt.date] = frozenset(),
) -> _Score:
    scores = []
    for candidate in candidates:
        short_days = sum(
            _plan_item(med, candidate, cycle_days, today).short_days for med in medications
        )
        scores.append(_Score(candidate, short_days, due_dates.count(candidate)))
    return min(scores, key=lambda s: (s.anchor in avoid, s.short_days, -s.shared, s.anchor))


def _effective_due(med: Medication, today: dt.date | None) -> dt.date | None:
    due = next_due_date(med)
    if due is not None and today is not None and due < today:
        return today
    return due


def _plan_item(
    med: Medication, anchor: dt.date | None, cycle_days: int, today: dt.date | None
) -> PlanItem:
    """Decide what one medicine needs for `anchor` (None: no anchor, reasons only)."""
    due = next_due_date(med)
    fill_on = _effective_due(med, today)
    notes: list[str] = []
    if due is not None and fill_on != due:
        notes.append(f"overdue since {due}: the patient may be out; fill today ({fill_on})")
    if med.refills_remaining == 0 and med.med_type == "maintenance":
        notes.append("no refills left: ask the prescriber for a new prescription")
    item = PlanItem(
        med.name, ItemStatus.MISSING_DATA, "", due_date=due, fill_on=fill_on, notes=tuple(notes)
    )
    if med.med_type == "prn":
        return replace(
            item,
            status=ItemStatus.CANNOT_SHORT_FILL,
            reason="as needed (PRN): not synchronized; filled when the patient asks",
        )
    if med.last_fill_date is None:
        return replace(item, reason="no last fill date: the due date is unknown")
    supply = med.supply_days
    if supply is None or fill_on is None:
        return replace(
            item, reason="no days supply (nor quantity and daily dose): the due date is unknown"
        )
    if anchor is None:
        if med.controlled:
            return replace(
                item,
                status=ItemStatus.CANNOT_SHORT_FILL,
                reason=f"controlled substance: never short-filled; fill when due ({fill_on})",
            )
        return replace(item, reason=f"due {fill_on}; there is no anchor to align it with")
    return _align(med, item, fill_on, supply, anchor, cycle_days)


def _align(
    med: Medication,
    item: PlanItem,
    fill_on: dt.date,
    supply: int,
    anchor: dt.date,
    cycle_days: int,
) -> PlanItem:
    """Bring an item with a known due date to the first anchor date on or after it."""
    align_to = _first_anchor_on_or_after(fill_on, anchor, cycle_days)
    notes = item.notes
    if fill_on > anchor:
        notes += (f"still has {(fill_on - anchor).days} days of supply on the anchor",)
    item = replace(item, align_to=align_to, notes=notes)
    where = "the anchor" if align_to == anchor else f"the anchor date {align_to}"
    full_fills, short_days = divmod((align_to - fill_on).days, supply)
    if short_days == 0 and full_fills == 0:
        return replace(item, status=ItemStatus.ALIGNED, reason=f"due on {where}: no short fill")
    if short_days == 0:
        return replace(
            item,
            status=ItemStatus.ALIGNED,
            full_fills=full_fills,
            reason=f"{full_fills} regular fills of {supply} days from {fill_on} reach {where}",
        )
    gap = f"{fill_on}, {(align_to - fill_on).days} days before {where}"
    if med.controlled:
        return replace(
            item,
            status=ItemStatus.CANNOT_SHORT_FILL,
            reason=f"controlled substance: never short-filled; fill when due ({gap})",
        )
    if med.package == "whole":
        return replace(
            item,
            status=ItemStatus.CANNOT_SHORT_FILL,
            reason=(
                "whole package (insulin pen, inhaler, eye drops, liquid): cannot be "
                f"short-filled; fill when due ({gap})"
            ),
        )
    item = replace(item, full_fills=full_fills, short_days=short_days)
    short_on = fill_on + dt.timedelta(days=full_fills * supply)
    bridge = f"{full_fills} regular fill{'s' * (full_fills > 1)} from {fill_on}, then " * (
        full_fills > 0
    )
    dose, derived = _daily_dose(med, supply)
    if dose is None:
        return replace(
            item,
            reason=(
                f"{bridge}a short fill of {short_days} days on {short_on}, but the daily dose "
                "is unknown (no daily_dose, no quantity): cannot compute the quantity"
            ),
        )
    # Round up: a partial unit still has to cover the last day, so the patient never runs out.
    quantity = math.ceil(short_days * dose)
    if derived:
        item = replace(
            item, notes=(*item.notes, f"daily dose taken as quantity / days supply ({dose})")
        )
    return replace(
        item,
        status=ItemStatus.SHORT_FILL,
        short_quantity=quantity,
        reason=(
            f"{bridge}short fill {short_days} days ({quantity} units) on {short_on}, "
            f"then filled with the others on {where}"
        ),
    )


def _first_anchor_on_or_after(day: dt.date, anchor: dt.date, cycle_days: int) -> dt.date:
    """Return the first date of the cycle (anchor + k x cycle_days, k >= 0) on or after `day`."""
    if day <= anchor:
        return anchor
    cycles = -(-(day - anchor).days // cycle_days)  # ceiling division
    return anchor + dt.timedelta(days=cycles * cycle_days)


def _daily_dose(med: Medication, supply: int) -> tuple[Fraction | None, bool]:
    """Return the daily dose as an exact fraction, and whether it was derived."""
    if med.daily_dose is not None and med.daily_dose > 0:
        return _exact(med.daily_dose), False
    if med.quantity is not None and med.quantity > 0:
        return _exact(med.quantity) / supply, True
    return None, False


def _exact(value: float) -> Fraction:
    """Return the decimal the pharmacist typed (1.1 is 11/10, not 1.10000000000000008882)."""
    return Fraction(repr(value))


def _names(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()
