"""Sync planning on worked examples derived by hand (reference/domain.md 3.4).

Every date below was counted on a calendar, not computed with the code under test.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from planning.sync import (
    ItemStatus,
    Medication,
    PlanItem,
    next_due_date,
    plan_sync,
    suggest_anchor,
)

D = dt.date


def metformin(**changes: object) -> Medication:
    """30 days, 2 tablets a day, filled Nov 5: due Dec 5 (November has 30 days)."""
    values: dict[str, object] = {
        "name": "Metformin 500 mg",
        "days_supply": 30,
        "last_fill_date": D(2026, 11, 5),
        "quantity": 60,
        "daily_dose": 2,
    }
    return Medication(**(values | changes))  # type: ignore[arg-type]


def due_on(day: dt.date, name: str = "Drug", days: int = 30, **fields: object) -> Medication:
    """A 30-day tablet, one a day, due on `day`."""
    return Medication(
        name=name,
        days_supply=days,
        last_fill_date=day - dt.timedelta(days=days),
        daily_dose=1,
        **fields,  # type: ignore[arg-type]
    )


def item(plan_items: tuple[PlanItem, ...], name: str) -> PlanItem:
    (found,) = [i for i in plan_items if i.name == name]
    return found


# -- due dates ---------------------------------------------------------------------------------


def test_it_dates_a_30_day_supply_by_the_calendar() -> None:
    assert next_due_date(metformin()) == D(2026, 12, 5)


@pytest.mark.parametrize(
    ("last_fill", "expected"),
    [
        # Filled on the 15th every month, 30 days each: January has 31 days, so the supply runs
        # out a day before the 15th; February has 28 (29 in 2028), so it lasts past the 15th.
        (D(2027, 1, 15), D(2027, 2, 14)),
        (D(2027, 2, 15), D(2027, 3, 17)),
        (D(2028, 2, 15), D(2028, 3, 16)),
        (D(2027, 4, 15), D(2027, 5, 15)),
        # Across a year end.
        (D(2026, 12, 15), D(2027, 1, 14)),
    ],
)
def test_it_lets_a_30_day_supply_drift_with_month_length(
    last_fill: dt.date, expected: dt.date
) -> None:
    med = Medication("Lisinopril 10 mg", days_supply=30, last_fill_date=last_fill)
    assert next_due_date(med) == expected


def test_it_dates_a_90_day_supply() -> None:
    # Sep 20 + 90: 10 days to Sep 30, 31 in October, 30 in November, 19 more: Dec 19.
    med = Medication("Atorvastatin 20 mg", days_supply=90, last_fill_date=D(2026, 9, 20))
    assert next_due_date(med) == D(2026, 12, 19)


def test_it_derives_days_supply_from_quantity_and_daily_dose() -> None:
    med = metformin(days_supply=None, quantity=45, daily_dose=2)  # floor(22.5) = 22 days
    assert med.supply_days == 22
    assert next_due_date(med) == D(2026, 11, 27)


def test_it_has_no_due_date_without_a_last_fill_or_a_supply() -> None:
    assert next_due_date(metformin(last_fill_date=None)) is None
    assert next_due_date(metformin(days_supply=None, quantity=None)) is None


# -- short fills for a chosen anchor -----------------------------------------------------------


def test_it_short_fills_a_30_day_medicine_up_to_the_anchor() -> None:
    plan = plan_sync([metformin()], D(2026, 12, 12))
    (met,) = plan.items
    assert met.status is ItemStatus.SHORT_FILL
    # Due Dec 5, anchor Dec 12: Dec 5..11 is 7 days, 2 tablets a day.
    assert (met.fill_on, met.short_days, met.short_quantity) == (D(2026, 12, 5), 7, 14)
    assert met.align_to == D(2026, 12, 12)
    assert plan.total_short_days == 7
    assert plan.suggestion is None
    assert "7 days (14 units) on 2026-12-05" in met.reason


def test_it_short_fills_a_90_day_medicine_due_before_the_anchor() -> None:
    statin = Medication(
        "Atorvastatin 20 mg", days_supply=90, last_fill_date=D(2026, 9, 20), daily_dose=1
    )
    (plan_item,) = plan_sync([statin], D(2026, 12, 31)).items
    assert (plan_item.status, plan_item.short_days, plan_item.short_quantity) == (
        ItemStatus.SHORT_FILL,
        12,  # Dec 19..30
        12,
    )


def test_it_aligns_a_90_day_medicine_due_on_a_later_anchor_date_of_the_cycle() -> None:
    # Nov 10 + 90 = Feb 8 2027 = Dec 10 + 30 + 30: it joins the cycle two anchors later.
    amlodipine = Medication("Amlodipine 5 mg", days_supply=90, last_fill_date=D(2026, 11, 10))
    (plan_item,) = plan_sync([amlodipine], D(2026, 12, 10), cycle_days=30).items
    assert plan_item.status is ItemStatus.ALIGNED
    assert plan_item.align_to == D(2027, 2, 8)
    assert plan_item.short_days == 0


def test_it_short_fills_a_medicine_due_after_the_anchor_to_the_next_anchor_date() -> None:
    # Oct 1 + 90 = Dec 30; anchors Dec 10, Jan 9: short fill Dec 30..Jan 8 = 10 days.
    amlodipine = Medication(
        "Amlodipine 5 mg", days_supply=90, last_fill_date=D(2026, 10, 1), daily_dose=1
    )
    (plan_item,) = plan_sync([amlodipine], D(2026, 12, 10), cycle_days=30).items
    assert (plan_item.fill_on, plan_item.align_to, plan_item.short_days) == (
        D(2026, 12, 30),
        D(2027, 1, 9),
        10,
    )
    assert "still has 20 days of supply on the anchor" in plan_item.notes


def test_it_handles_month_length_drift_against_a_calendar_anchor() -> None:
    # January's 31 days: filled Jan 15, due Feb 14, one day short of the Feb 15 anchor.
    jan = Medication("Lisinopril", days_supply=30, last_fill_date=D(2027, 1, 15), daily_dose=1)
    (after_january,) = plan_sync([jan], D(2027, 2, 15)).items
    assert (after_january.short_days, after_january.short_quantity) == (1, 1)
    # February's 28 days: filled Feb 15, due Mar 17, two days past the Mar 15 anchor. With a
    # 30-day cycle the next anchor date is Apr 14: short fill Mar 17..Apr 13 = 28 days.
    feb = Medication("Lisinopril", days_supply=30, last_fill_date=D(2027, 2, 15), daily_dose=1)
    (after_february,) = plan_sync([feb], D(2027, 3, 15), cycle_days=30).items
    assert (after_february.align_to, after_february.short_days) == (D(2027, 4, 14), 28)


def test_it_bridges_a_gap_longer_than_one_fill_with_regular_fills_first() -> None:
    # Due Nov 1, anchor Dec 12: 41 days = one 30-day fill (Nov 1..30) + 11 days from Dec 1.
    med = due_on(D(2026, 11, 1), "Amlodipine")
    (plan_item,) = plan_sync([med], D(2026, 12, 12)).items
    assert (plan_item.full_fills, plan_item.short_days, plan_item.short_quantity) == (1, 11, 11)
    assert "on 2026-12-01" in plan_item.reason


@pytest.mark.parametrize(
    ("daily_dose", "days", "expected"),
    [
        (0.5, 13, 7),  # 6.5 tablets: round up, never leave the last day short
        (1.1, 10, 11),  # 11 exactly: no float noise rounding it up to 12
        (2.0, 7, 14),
        (0.25, 1, 1),
    ],
)
def test_it_rounds_the_short_quantity_up_to_whole_units(
    daily_dose: float, days: int, expected: int
) -> None:
    # Due Dec 1 (Nov 1 + 30).
    med = Medication("Drug", days_supply=30, last_fill_date=D(2026, 11, 1), daily_dose=daily_dose)
    (plan_item,) = plan_sync([med], D(2026, 12, 1) + dt.timedelta(days=days)).items
    assert (plan_item.short_days, plan_item.short_quantity) == (days, expected)


def test_it_derives_the_daily_dose_from_quantity_and_days_supply() -> None:
    med = metformin(daily_dose=None, quantity=90)  # 90 tablets for 30 days: 3 a day
    (plan_item,) = plan_sync([med], D(2026, 12, 12)).items
    assert (plan_item.short_days, plan_item.short_quantity) == (7, 21)
    assert any("quantity / days supply" in note for note in plan_item.notes)


# -- what cannot be short-filled ---------------------------------------------------------------


def test_it_never_short_fills_an_insulin_pen() -> None:
    # Pens due Dec 12; anchor Dec 10, 30-day cycle: the next anchor date is Jan 9.
    pen = Medication(
        "Lantus SoloStar", days_supply=30, last_fill_date=D(2026, 11, 12), package="whole"
    )
    (plan_item,) = plan_sync([pen], D(2026, 12, 10)).items
    assert plan_item.status is ItemStatus.CANNOT_SHORT_FILL
    assert (plan_item.short_days, plan_item.short_quantity) == (0, None)
    assert "whole package" in plan_item.reason
    assert "2026-12-12, 28 days before the anchor date 2027-01-09" in plan_item.reason


def test_it_never_short_fills_a_controlled_medicine() -> None:
    oxycodone = Medication(
        "Oxycodone 5 mg",
        days_supply=30,
        last_fill_date=D(2026, 11, 7),
        daily_dose=4,
        controlled=True,
    )
    (plan_item,) = plan_sync([oxycodone], D(2026, 12, 12)).items
    assert plan_item.status is ItemStatus.CANNOT_SHORT_FILL
    assert (plan_item.short_days, plan_item.short_quantity) == (0, None)
    assert plan_item.reason.startswith("controlled substance: never short-filled")
    assert "2026-12-07, 5 days before the anchor" in plan_item.reason


def test_it_leaves_prn_medicines_out_of_the_sync() -> None:
    albuterol = Medication(
        "Albuterol HFA", med_type="prn", days_supply=30, last_fill_date=D(2026, 11, 1)
    )
    (plan_item,) = plan_sync([albuterol], D(2026, 12, 12)).items
    assert plan_item.status is ItemStatus.CANNOT_SHORT_FILL
    assert "as needed (PRN)" in plan_item.reason
    assert plan_item.short_days == 0


def test_it_calls_an_item_on_the_anchor_aligned() -> None:
    (plan_item,) = plan_sync([metformin()], D(2026, 12, 5)).items
    assert plan_item.status is ItemStatus.ALIGNED
    assert plan_item.reason == "due on the anchor: no short fill"


# -- missing data ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("med", "reason"),
    [
        (metformin(last_fill_date=None), "no last fill date"),
        (metformin(days_supply=None, quantity=None), "no days supply"),
        (metformin(daily_dose=None, quantity=None), "the daily dose is unknown"),
    ],
)
def test_it_gives_a_reason_instead_of_failing_on_missing_data(med: Medication, reason: str) -> None:
    plan = plan_sync([med], D(2026, 12, 12))
    (plan_item,) = plan.items
    assert plan_item.status is ItemStatus.MISSING_DATA
    assert reason in plan_item.reason
    assert plan_item.short_quantity is None


def test_it_still_counts_the_short_days_when_only_the_dose_is_missing() -> None:
    (plan_item,) = plan_sync([metformin(daily_dose=None, quantity=None)], D(2026, 12, 12)).items
    assert plan_item.short_days == 7


def test_it_notes_an_overdue_medicine_and_fills_it_today() -> None:
    # Due Nov 20, seen on Nov 29: the fill is today, then 11 days to the Dec 10 anchor.
    med = due_on(D(2026, 11, 20))
    (plan_item,) = plan_sync([med], D(2026, 12, 10), today=D(2026, 11, 29)).items
    assert (plan_item.due_date, plan_item.fill_on, plan_item.short_days) == (
        D(2026, 11, 20),
        D(2026, 11, 29),
        11,
    )
    assert plan_item.notes[0].startswith("overdue since 2026-11-20")


def test_it_notes_that_a_prescription_has_no_refills_left() -> None:
    (plan_item,) = plan_sync([metformin(refills_remaining=0)], D(2026, 12, 12)).items
    assert any("no refills left" in note for note in plan_item.notes)


# -- the suggested anchor ----------------------------------------------------------------------


def test_it_anchors_the_cycle_on_an_insulin_pen() -> None:
    pen = Medication(
        "Lantus SoloStar", days_supply=30, last_fill_date=D(2026, 11, 12), package="whole"
    )
    plan = plan_sync([metformin(), pen])
    assert plan.anchor == D(2026, 12, 12)
    assert plan.suggestion is not None
    assert "Lantus SoloStar cannot be short-filled (whole package)" in plan.reason
    assert item(plan.items, "Lantus SoloStar").status is ItemStatus.ALIGNED
    assert item(plan.items, "Metformin 500 mg").short_days == 7


def test_it_does_not_anchor_on_a_controlled_medicine() -> None:
    oxycodone = Medication(
        "Oxycodone 5 mg", days_supply=30, last_fill_date=D(2026, 11, 7), controlled=True
    )
    assert suggest_anchor([metformin(), oxycodone]).anchor == D(2026, 12, 5)


def test_it_suggests_the_due_date_needing_the_fewest_short_fill_days() -> None:
    # 30-day cycle; an item due after the anchor goes to the anchor 30 days on. With t the
    # anchor's days after Dec 1, the short days are A: t; B and C: t + 20 before Dec 11, then
    # t - 10; D: t + 10 before Dec 21, then t - 20. In all 4t + 50 on Dec 1-10, 4t - 10 on
    # Dec 11-20 and 4t - 40 on Dec 21-30: least on Dec 11, with 30.
    meds = [
        due_on(D(2026, 12, 1), "A"),
        due_on(D(2026, 12, 11), "B"),
        due_on(D(2026, 12, 11), "C"),
        due_on(D(2026, 12, 21), "D"),
    ]
    suggestion = suggest_anchor(meds)
    assert suggestion.anchor == D(2026, 12, 11)
    assert suggestion.reason == (
        "2026-12-11: the due date of B and C; it needs 30 short-fill days in all, "
        "the fewest of the 30 dates of the cycle from 2026-12-01"
    )


def test_it_breaks_a_tie_towards_the_most_shared_due_date() -> None:
    # Dec 1: B and C go to Dec 31, 10 days each = 20. Dec 21: A 20 days = 20. Any other date
    # of the cycle needs more (3t + 20 before Dec 21, 3t - 40 after). Two medicines fall due
    # on Dec 21 against one on Dec 1.
    meds = [
        due_on(D(2026, 12, 1), "A"),
        due_on(D(2026, 12, 21), "B"),
        due_on(D(2026, 12, 21), "C"),
    ]
    assert suggest_anchor(meds).anchor == D(2026, 12, 21)


def test_it_breaks_an_even_tie_towards_the_earlier_date() -> None:
    # A due Dec 1, B due Dec 16: 15 short days on either date, one medicine due on each.
    meds = [due_on(D(2026, 12, 1), "A"), due_on(D(2026, 12, 16), "B")]
    assert suggest_anchor(meds).anchor == D(2026, 12, 1)


def test_it_plans_for_the_suggested_anchor() -> None:
    plan = plan_sync([due_on(D(2026, 12, 1), "A"), due_on(D(2026, 12, 21), "B")], cycle_days=30)
    assert plan.anchor == D(2026, 12, 1)
    assert [i.short_days for i in plan.items] == [0, 10]


def test_it_says_why_it_cannot_suggest_an_anchor() -> None:
    meds = [Medication("Albuterol HFA", med_type="prn"), metformin(last_fill_date=None)]
    plan = plan_sync(meds)
    assert plan.anchor is None
    assert plan.reason.startswith("no anchor to suggest")
    assert [i.status for i in plan.items] == [
        ItemStatus.CANNOT_SHORT_FILL,
        ItemStatus.MISSING_DATA,
    ]


def test_it_serializes_a_plan_to_json() -> None:
    document = plan_sync([metformin()], D(2026, 12, 12)).to_json()
    assert json.loads(json.dumps(document)) == document
    assert document["anchor"] == "2026-12-12"
    assert document["suggested"] is False
    assert document["total_short_days"] == 7
    (met,) = document["items"]  # type: ignore[misc]
    assert met == {
        "name": "Metformin 500 mg",
        "status": "short_fill",
        "reason": met["reason"],
        "due_date": "2026-12-05",
        "fill_on": "2026-12-05",
        "align_to": "2026-12-12",
        "full_fills": 0,
        "short_days": 7,
        "short_quantity": 14,
        "notes": [],
    }


def test_it_refuses_a_cycle_shorter_than_a_day() -> None:
    with pytest.raises(ValueError, match="cycle_days"):
        plan_sync([metformin()], D(2026, 12, 12), cycle_days=0)
