"""Properties of the PDC for arbitrary fills: bounded, monotone in added supply, and equal to
a day-by-day simulation of the pills on hand."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from planning.pdc import Fill, PdcResult, pdc_by_class

START = dt.date(2026, 1, 1)
END = dt.date(2026, 12, 31)
INGREDIENTS = ["metformin", "glipizide", "lisinopril", "losartan"]

dates = st.integers(min_value=-60, max_value=400).map(lambda n: START + dt.timedelta(days=n))


@st.composite
def fills(draw: st.DrawFn) -> Fill:
    ingredients = draw(st.lists(st.sampled_from(INGREDIENTS), min_size=1, max_size=2, unique=True))
    return Fill(
        patient_id="P",
        drug="/".join(ingredients),
        ingredients=tuple(sorted(ingredients)),
        drug_class=draw(st.sampled_from(["diabetes", "RASA"])),
        fill_date=draw(dates),
        days_supply=draw(st.integers(min_value=1, max_value=120)),
    )


fill_lists = st.lists(fills(), max_size=12)


def by_class(results: list[PdcResult]) -> dict[str, PdcResult]:
    return {r.drug_class: r for r in results}


def simulate(fills: list[Fill], drug_class: str, index: dt.date) -> int:
    """Count covered days by walking the calendar with each ingredient's pills on hand."""
    in_period = [f for f in fills if f.drug_class == drug_class and START <= f.fill_date <= END]
    on_hand = dict.fromkeys(INGREDIENTS, 0)
    covered = 0
    day = index
    while day <= END:
        for ingredient in INGREDIENTS:
            today = [
                f.days_supply
                for f in in_period
                if ingredient in f.ingredients and f.fill_date == day
            ]
            on_hand[ingredient] += max(today, default=0)
        if any(on_hand.values()):
            covered += 1
        for ingredient in INGREDIENTS:
            on_hand[ingredient] = max(on_hand[ingredient] - 1, 0)
        day += dt.timedelta(days=1)
    return covered


@given(fill_lists)
def test_it_keeps_the_pdc_between_0_and_1(fills: list[Fill]) -> None:
    for result in pdc_by_class("P", fills, START, END):
        if result.pdc is None:
            assert result.reason
            continue
        assert result.reason is None
        assert result.covered_days is not None and result.period_days is not None
        assert 0 <= result.covered_days <= result.period_days
        assert 0 <= result.pdc <= 1


@given(fill_lists)
def test_it_agrees_with_a_day_by_day_simulation(fills: list[Fill]) -> None:
    for result in pdc_by_class("P", fills, START, END):
        if result.pdc is not None:
            assert result.covered_days == simulate(fills, result.drug_class, result.index_date)


@given(fill_lists, fills(), st.integers(min_value=1, max_value=400))
def test_it_never_lowers_the_pdc_when_a_later_fill_is_added(
    fills: list[Fill], extra: Fill, days_after: int
) -> None:
    before = by_class(pdc_by_class("P", fills, START, END))
    if extra.drug_class not in before:
        return
    index = before[extra.drug_class].index_date
    later = Fill(
        "P",
        extra.drug,
        extra.ingredients,
        extra.drug_class,
        index + dt.timedelta(days=days_after),
        extra.days_supply,
    )
    after = by_class(pdc_by_class("P", [*fills, later], START, END))
    for drug_class, old in before.items():
        new = after[drug_class]
        assert new.index_date == old.index_date
        if old.pdc is not None:
            assert new.pdc is not None
            assert new.pdc >= old.pdc
