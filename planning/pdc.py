"""Proportion of days covered (PDC) per patient and drug class, following the PQA method.

Read with reference/domain.md 3.3 and SPEC 5.7. For one patient and one drug class, between
`start` (--from) and `end` (--to), both inclusive:

* Only fills dated within [start, end] count; supply carried in from a fill before `start` is
  not (PQA and CMS measure a calendar year from its first fill, without carry-over).
* Index date: the first fill of the class on or after `start`. The treatment period runs from
  the index date to `end`; `period_days` counts both ends.
* No PDC (a result with `pdc` None and a `reason`) when the class has fewer than two fills on
  different dates, or when the index date is less than 91 days before `end`
  (`end - index < 91`, so for a year ending Dec 31 the last index date with a PDC is Oct 1).
* Same drug: fills that share an active ingredient are the same drug. A later fill's supply
  starts the day after the earlier supply of that ingredient runs out (overlaps shift
  forward). Two fills of one ingredient on the same day are one fill with the longer supply
  (PQA's same-day rule; it also keeps a duplicated row from counting twice).
* Combination products (`ingredient` = `lisinopril/hydrochlorothiazide`) count for each of
  their ingredients: each ingredient has its own shifted timeline, so a combination refilled
  early shifts after the single agent it shares an ingredient with, while two different drugs
  taken together (metformin and glipizide) are not shifted against each other.
* Different drugs of one class: a day is covered when any of the class's ingredient timelines
  covers it, counted once (no shift between different drugs).
* Coverage stops at `end`, so PDC never exceeds 1. Adherent means PDC >= 0.8.

Not modelled, because a pharmacy's fills file does not carry them: hospice and ESRD
exclusions, inpatient-stay adjustments, and the 51% pharmacy-attribution rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

ADHERENT_PDC = 0.8
MIN_INDEX_DAYS_BEFORE_END = 91

FEWER_THAN_TWO_FILLS = "fewer than two fills on different dates"


class Fill(NamedTuple):
    """One dispensed fill, as read from the fills CSV (SPEC 5.7).

    A named tuple rather than a dataclass: 100,000 of them are built and held per file, and
    a tuple is both the smallest and the quickest to build.
    """

    patient_id: str
    drug: str
    ingredients: tuple[str, ...]  # lower-case active ingredients
    drug_class: str
    fill_date: dt.date
    days_supply: int


@dataclass(frozen=True)
class PdcResult:
    """The PDC of one patient in one drug class, or the reason there is none."""

    patient_id: str
    drug_class: str
    index_date: dt.date
    covered_days: int | None = None
    period_days: int | None = None
    reason: str | None = None  # why there is no PDC

    @property
    def pdc(self) -> float | None:
        if self.covered_days is None or not self.period_days:
            return None
        return self.covered_days / self.period_days

    @property
    def adherent(self) -> bool | None:
        pdc = self.pdc
        return None if pdc is None else pdc >= ADHERENT_PDC

    def to_json(self) -> dict[str, object]:
        """Return the SPEC 5.7 JSON object (pdc rounded to 6 decimals) and a little more."""
        pdc = self.pdc
        return {
            "patient_id": self.patient_id,
            "drug_class": self.drug_class,
            "pdc": None if pdc is None else round(pdc, 6),
            "covered_days": self.covered_days,
            "period_days": self.period_days,
            "index_date": self.index_date.isoformat(),
            "adherent": self.adherent,
            "reason": self.reason,
        }


def pdc_by_class(
    patient_id: str, fills: Iterable[Fill], start: dt.date, end: dt.date
) -> list[PdcResult]:
    """Return one result per drug class the patient filled within [start, end], by class."""
    by_class: dict[str, list[Fill]] = {}
    for fill in fills:
        if start <= fill.fill_date <= end:
            by_class.setdefault(fill.drug_class, []).append(fill)
    return [
        class_pdc(patient_id, drug_class, by_class[drug_class], end)
        for drug_class in sorted(by_class)
    ]


def class_pdc(patient_id: str, drug_class: str, fills: Sequence[Fill], end: dt.date) -> PdcResult:
    """Return the PDC of `fills` (one class, all dated within the measurement period)."""
    if not fills:
        raise ValueError("class_pdc needs at least one fill")
    index = min(fill.fill_date for fill in fills)
    if len({fill.fill_date for fill in fills}) < 2:
        return PdcResult(patient_id, drug_class, index, reason=FEWER_THAN_TWO_FILLS)
    if (end - index).days < MIN_INDEX_DAYS_BEFORE_END:
        return PdcResult(
            patient_id,
            drug_class,
            index,
            reason=(
                f"index date too late: {index} is less than {MIN_INDEX_DAYS_BEFORE_END} "
                f"days before {end}"
            ),
        )
    covered = _count_covered(fills, end.toordinal())
    return PdcResult(patient_id, drug_class, index, covered, (end - index).days + 1)


def adherence(
    patients: Iterable[tuple[str, Sequence[Fill]]], start: dt.date, end: dt.date
) -> Iterator[PdcResult]:
    """Yield the results of each (patient_id, fills) group in turn."""
    if end < start:
        raise ValueError("the measurement period ends before it starts")
    for patient_id, fills in patients:
        yield from pdc_by_class(patient_id, fills, start, end)


def _count_covered(fills: Sequence[Fill], last_day: int) -> int:
    """Count the days up to `last_day` (an ordinal) covered by any ingredient's supply."""
    # Per ingredient and day, the longest supply (PQA's same-day rule).
    supplies: dict[str, dict[int, int]] = {}
    for fill in fills:
        day = fill.fill_date.toordinal()
        for ingredient in fill.ingredients:
            by_day = supplies.setdefault(ingredient, {})
            by_day[day] = max(by_day.get(day, 0), fill.days_supply)
    intervals: list[tuple[int, int]] = []
    for by_day in supplies.values():
        runs_out = 0  # last covered day so far of this ingredient
        for day in sorted(by_day):
            first = max(day, runs_out + 1)  # same drug: shift past the supply on hand
            if first > last_day:
                break
            runs_out = first + by_day[day] - 1
            intervals.append((first, min(runs_out, last_day)))
    # Different drugs of the class: a day covered by several counts once.
    covered = 0
    reach = 0
    for first, last in sorted(intervals):
        if last > reach:
            covered += last - max(first, reach + 1) + 1
            reach = last
    return covered
