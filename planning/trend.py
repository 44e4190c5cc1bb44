"""PDC by CMS Star Ratings class over time, for the program report (SPEC 15).

A point is a day (each month end of the report's period, and its last day); at each point the
PDC of every patient is measured by planning/pdc.py over the twelve months ending that day,
as the Star measures measure a year. The point reports, per class, how many patients have a
PDC, their mean PDC and how many are adherent (PDC >= 80%): the Star measure's own rate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from planning.pdc import ADHERENT_PDC, Fill, pdc_by_class

# The Star Ratings adherence classes, and the spellings a fills export may use for them.
STAR_CLASSES = ("diabetes", "RASA", "statin")
_CLASS_NAMES = {
    "diabetes": "diabetes",
    "rasa": "RASA",
    "ras antagonist": "RASA",
    "ras antagonists": "RASA",
    "statin": "statin",
    "statins": "statin",
}
YEAR_DAYS = 365


@dataclass(frozen=True)
class ClassPoint:
    day: dt.date
    drug_class: str
    patients: int  # with a PDC at this point
    adherent: int
    pdc_sum: float

    @property
    def mean_pdc(self) -> float | None:
        return round(self.pdc_sum / self.patients, 4) if self.patients else None

    @property
    def adherent_rate(self) -> float | None:
        return round(self.adherent / self.patients, 4) if self.patients else None


def star_class(drug_class: str) -> str | None:
    """The Star class a fills row's `drug_class` names, or None (not a Star class)."""
    return _CLASS_NAMES.get(" ".join(drug_class.lower().split()))


def trend_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Each month end from `start` to `end`, and `end` itself."""
    days: list[dt.date] = []
    month = start.replace(day=1)
    while month <= end:
        following = (month + dt.timedelta(days=32)).replace(day=1)
        last = following - dt.timedelta(days=1)
        if start <= last <= end:
            days.append(last)
        month = following
    if not days or days[-1] != end:
        days.append(end)
    return days


def pdc_trend(
    fills_by_patient: Mapping[str, Sequence[Fill]],
    patient_ids: Collection[str],
    days: Sequence[dt.date],
) -> list[ClassPoint]:
    """Per point and Star class: the PDC of the patients in `patient_ids` over the year to it."""
    points: list[ClassPoint] = []
    for day in days:
        first = day - dt.timedelta(days=YEAR_DAYS - 1)
        totals = {name: [0, 0, 0.0] for name in STAR_CLASSES}
        for patient_id, fills in fills_by_patient.items():
            if patient_id not in patient_ids:
                continue
            starred = [f._replace(drug_class=c) for f in fills if (c := star_class(f.drug_class))]
            for result in pdc_by_class(patient_id, starred, first, day):
                pdc = result.pdc
                if pdc is None:
                    continue
                total = totals[result.drug_class]
                total[0] += 1
                total[1] += pdc >= ADHERENT_PDC
                total[2] += pdc
        points.extend(
            ClassPoint(day, name, int(n), int(good), float(pdc_sum))
            for name, (n, good, pdc_sum) in totals.items()
        )
    return points
