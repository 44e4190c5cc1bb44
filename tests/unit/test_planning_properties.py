"""Properties of sync plans for arbitrary medicines, anchors and cycles."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from planning.sync import ItemStatus, Medication, next_due_date, plan_sync, suggest_anchor

BASE = dt.date(2026, 1, 1)
day = st.integers(min_value=0, max_value=400).map(lambda n: BASE + dt.timedelta(days=n))
dose = st.sampled_from([0.25, 0.5, 1, 1.1, 1.5, 2, 3, 4, 0.1])


@st.composite
def medications(draw: st.DrawFn) -> Medication:
    return Medication(
        name=draw(st.text(min_size=1, max_size=8)),
        med_type=draw(st.sampled_from(["maintenance", "maintenance", "maintenance", "prn"])),
        days_supply=draw(st.one_of(st.none(), st.integers(min_value=1, max_value=120))),
        last_fill_date=draw(st.one_of(st.none(), day, day, day)),
        quantity=draw(st.one_of(st.none(), st.sampled_from([1.0, 30.0, 45.0, 90.0, 100.0]))),
        daily_dose=draw(st.one_of(st.none(), dose, dose)),
        package=draw(st.sampled_from(["splittable", "splittable", "whole"])),
        controlled=draw(st.booleans()),
        refills_remaining=draw(st.one_of(st.none(), st.integers(min_value=0, max_value=5))),
    )


med_lists = st.lists(medications(), max_size=8)
cycles = st.integers(min_value=7, max_value=90)


@given(med_lists, day, cycles, st.one_of(st.none(), day))
def test_it_never_leaves_an_uncovered_day_before_the_anchor(
    meds: list[Medication], anchor: dt.date, cycle: int, today: dt.date | None
) -> None:
    plan = plan_sync(meds, anchor, cycle_days=cycle, today=today)
    assert len(plan.items) == len(meds)
    for med, item in zip(meds, plan.items, strict=True):
        if item.status not in (ItemStatus.SHORT_FILL, ItemStatus.ALIGNED):
            assert item.short_quantity is None
            continue
        supply = med.supply_days
        assert supply is not None and item.fill_on is not None and item.align_to is not None
        # The planned fills run back to back from the fill date to an anchor date of the cycle,
        # which is the chosen anchor or later: no day in between is left without supply.
        assert item.align_to >= anchor
        assert (item.align_to - anchor).days % cycle == 0
        reached = item.fill_on + dt.timedelta(days=item.full_fills * supply + item.short_days)
        assert reached == item.align_to
        assert 0 <= item.short_days < supply
        # Nor is a short fill shorter than its days: whole units, rounded up.
        if item.status is ItemStatus.SHORT_FILL:
            assert med.daily_dose is not None or med.quantity is not None
            assert item.short_quantity is not None and item.short_quantity >= 1
            per_day = (
                Fraction(repr(med.daily_dose))
                if med.daily_dose
                else Fraction(repr(med.quantity)) / supply
            )
            assert item.short_quantity >= item.short_days * per_day
            assert item.short_quantity - 1 < item.short_days * per_day
        # Supply on hand lasts to the due date; the fill is on it (or today, when overdue).
        assert item.due_date is not None and med.last_fill_date is not None
        assert item.fill_on == max(item.due_date, today or item.due_date)
        # Nothing that cannot be short-filled ever gets a short fill.
        if med.controlled or med.package == "whole" or med.med_type == "prn":
            assert item.short_days == 0


@given(med_lists, cycles)
def test_it_suggests_an_anchor_no_date_of_its_cycle_beats(
    meds: list[Medication], cycle: int
) -> None:
    suggestion = suggest_anchor(meds, cycle_days=cycle)
    if suggestion.anchor is None or any(m.package == "whole" for m in meds):
        return  # an unsplittable item pins the anchor: it is not free to move
    best = plan_sync(meds, suggestion.anchor, cycle_days=cycle).total_short_days
    # The cycle that starts when the first medicine that can be synchronized runs out.
    start = min(
        due
        for m in meds
        if m.med_type == "maintenance" and not m.controlled and (due := next_due_date(m))
    )
    assert start <= suggestion.anchor < start + dt.timedelta(days=cycle)
    for offset in range(cycle):
        other = start + dt.timedelta(days=offset)
        assert plan_sync(meds, other, cycle_days=cycle).total_short_days >= best


@given(med_lists, cycles, st.one_of(st.none(), day))
def test_it_always_explains_the_anchor_and_every_item(
    meds: list[Medication], cycle: int, today: dt.date | None
) -> None:
    plan = plan_sync(meds, cycle_days=cycle, today=today)
    assert plan.reason
    assert all(item.reason for item in plan.items)
    if plan.anchor is not None and today is not None:
        assert plan.anchor >= today
