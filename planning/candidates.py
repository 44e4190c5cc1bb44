"""Patients worth inviting to med sync, found in a fills file (SPEC 5.7 `candidates`).

A patient is a candidate when, within [start, end]:

* they take `min_meds` or more maintenance drugs. A maintenance drug is an active ingredient
  (combination products count once for each ingredient, as each is a medicine the patient
  takes and must not run out of) that was filled on at least two different dates, or once
  with a supply of 84 days or more (a 90-day fill is maintenance therapy; a single short
  fill, such as an antibiotic course, is not). Strength changes do not make a second drug
  when the `ingredient` column is filled in;
* or their PDC is under 80% in any drug class (planning/pdc.py); a class without a PDC
  (too few fills, index date too late) does not make a patient a candidate.

The default threshold of three drugs is a judgment call: syncing two medicines saves a trip
a month, three or more is where pharmacies report the program pays off; `--min-meds` changes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from planning.pdc import ADHERENT_PDC, Fill, PdcResult, pdc_by_class

DEFAULT_MIN_MEDS = 3
LONG_FILL_DAYS = 84


@dataclass(frozen=True)
class Candidate:
    """A patient to invite, and why."""

    patient_id: str
    maintenance: tuple[str, ...]  # the maintenance ingredients, sorted
    low_pdc: tuple[PdcResult, ...]  # classes with a PDC under 80%
    min_meds: int

    @property
    def reasons(self) -> tuple[str, ...]:
        reasons = []
        if len(self.maintenance) >= self.min_meds:
            count = len(self.maintenance)
            reasons.append(f"{count} maintenance drug{'s' * (count != 1)}")
        reasons.extend(
            f"PDC {result.pdc:.1%} in {result.drug_class}"
            for result in self.low_pdc
            if result.pdc is not None
        )
        return tuple(reasons)

    def to_json(self) -> dict[str, object]:
        """Return a JSON-ready dict."""
        return {
            "patient_id": self.patient_id,
            "maintenance_drugs": len(self.maintenance),
            "ingredients": list(self.maintenance),
            "low_pdc": [
                {"drug_class": r.drug_class, "pdc": round(r.pdc, 6)}
                for r in self.low_pdc
                if r.pdc is not None
            ],
            "reasons": list(self.reasons),
        }


def maintenance_ingredients(fills: Iterable[Fill], start: dt.date, end: dt.date) -> tuple[str, ...]:
    """Return the ingredients filled as maintenance therapy within [start, end], sorted."""
    dates: dict[str, set[dt.date]] = {}
    long_fill: set[str] = set()
    for fill in fills:
        if not start <= fill.fill_date <= end:
            continue
        for ingredient in fill.ingredients:
            dates.setdefault(ingredient, set()).add(fill.fill_date)
            if fill.days_supply >= LONG_FILL_DAYS:
                long_fill.add(ingredient)
    return tuple(
        sorted(name for name, days in dates.items() if len(days) >= 2 or name in long_fill)
    )


def find_candidate(
    patient_id: str,
    fills: Sequence[Fill],
    start: dt.date,
    end: dt.date,
    min_meds: int = DEFAULT_MIN_MEDS,
) -> Candidate | None:
    """Return the patient as a candidate, or None when neither rule applies."""
    maintenance = maintenance_ingredients(fills, start, end)
    low = tuple(
        result
        for result in pdc_by_class(patient_id, fills, start, end)
        if result.pdc is not None and result.pdc < ADHERENT_PDC
    )
    if len(maintenance) < min_meds and not low:
        return None
    return Candidate(patient_id, maintenance, low, min_meds)


def find_candidates(
    patients: Iterable[tuple[str, Sequence[Fill]]],
    start: dt.date,
    end: dt.date,
    min_meds: int = DEFAULT_MIN_MEDS,
) -> Iterator[Candidate]:
    """Yield the candidates among (patient_id, fills) groups, in their order."""
    if end < start:
        raise ValueError("the measurement period ends before it starts")
    if min_meds < 1:
        raise ValueError("min_meds must be at least 1")
    for patient_id, fills in patients:
        candidate = find_candidate(patient_id, fills, start, end, min_meds)
        if candidate is not None:
            yield candidate
