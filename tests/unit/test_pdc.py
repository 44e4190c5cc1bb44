"""PDC (PQA method) on published examples and on examples worked by hand.

Published examples:
* PQA's example claims for the diabetes measure (pqaalliance.org/assets/Measures/pdc-dr.js.txt,
  cited in reference/domain.md 3.3), each claim listed with its first and last dose date; the
  covered days asserted here are the sums of those ranges.
* The five patients of joelmontavon/pdc-python's README (same drug, different drugs, non-
  adherent, combination product, concurrent use), with the PDCs that README prints.
"""

from __future__ import annotations

import datetime as dt

import pytest

from planning.candidates import find_candidate, maintenance_ingredients
from planning.pdc import FEWER_THAN_TWO_FILLS, Fill, PdcResult, adherence, pdc_by_class

D = dt.date.fromisoformat
YEAR_2018 = (D("2018-01-01"), D("2018-12-31"))
YEAR_2022 = (D("2022-01-01"), D("2022-12-31"))


def fill(
    date: str, days: int, drug: str = "metformin", drug_class: str = "diabetes", patient: str = "P"
) -> Fill:
    """A fill whose ingredients are the drug's name split on '/'."""
    return Fill(patient, drug, tuple(sorted(drug.split("/"))), drug_class, D(date), days)


def only(fills: list[Fill], period: tuple[dt.date, dt.date] = YEAR_2018) -> PdcResult:
    (result,) = pdc_by_class("P", fills, *period)
    return result


# -- PQA's example claims (pdc-dr.js) ----------------------------------------------------------


def test_it_counts_a_switch_between_two_drugs_of_the_class() -> None:
    # metformin 01/01-03/31, then glipizide 04/01-06/29.
    result = only([fill("2018-01-01", 90), fill("2018-04-01", 90, "glipizide")])
    assert (result.covered_days, result.period_days) == (180, 365)


def test_it_does_not_give_a_pdc_for_two_drugs_started_the_same_day() -> None:
    # PQA's example of metformin and glipizide both from 01/01: one date of service only.
    result = only([fill("2018-01-01", 90), fill("2018-01-01", 90, "glipizide")])
    assert (result.pdc, result.reason) == (None, FEWER_THAN_TWO_FILLS)


def test_it_counts_two_drugs_taken_together_once_a_day() -> None:
    # The same pair plus a metformin refill on 04/01: glipizide 01/01-03/31 overlaps metformin
    # and is not shifted; metformin covers 01/01-06/29. 180 days, not 270.
    fills = [
        fill("2018-01-01", 90),
        fill("2018-01-01", 90, "glipizide"),
        fill("2018-04-01", 90),
    ]
    assert only(fills).covered_days == 180


def test_it_shifts_an_early_refill_of_the_same_drug() -> None:
    # 03/25-06/22, 07/05-10/02, and the 09/25 fill starts 10/03 and ends 12/31.
    # Period 03/25-12/31 is 282 days; covered 90 + 90 + 90.
    result = only([fill("2018-03-25", 90), fill("2018-07-05", 90), fill("2018-09-25", 90)])
    assert (result.index_date, result.covered_days, result.period_days) == (
        D("2018-03-25"),
        270,
        282,
    )
    assert result.to_json()["pdc"] == 0.957447


def test_it_stops_counting_at_the_end_of_the_period() -> None:
    # 01/01-03/31, 03/25 shifted to 04/01-06/29, 07/05-10/02, 10/15 cut at 12/31 (78 days).
    fills = [
        fill("2018-01-01", 90),
        fill("2018-03-25", 90),
        fill("2018-07-05", 90),
        fill("2018-10-15", 90),
    ]
    result = only(fills)
    assert (result.covered_days, result.period_days) == (348, 365)


def test_it_gives_no_pdc_when_the_index_date_is_too_late() -> None:
    # First fill 10/04: 88 days before 12/31, fewer than 91.
    fills = [fill("2018-10-04", 30), fill("2018-11-01", 30), fill("2018-12-15", 30)]
    result = only(fills)
    assert result.pdc is None
    assert result.reason == "index date too late: 2018-10-04 is less than 91 days before 2018-12-31"


# -- joelmontavon/pdc-python README ------------------------------------------------------------


@pytest.mark.parametrize(
    ("fills", "covered", "period", "pdc"),
    [
        pytest.param(
            [
                fill("2021-01-01", 90, "lisinopril", "RASA"),  # before the period: ignored
                fill("2022-01-01", 90, "lisinopril", "RASA"),
                fill("2022-03-25", 90, "lisinopril", "RASA"),
                fill("2022-07-05", 90, "lisinopril", "RASA"),
                fill("2022-09-25", 90, "lisinopril", "RASA"),
            ],
            360,
            365,
            0.986301,
            id="SAMEDRUG",
        ),
        pytest.param(
            [
                fill("2022-01-01", 90, "lisinopril", "RASA"),
                fill("2022-03-25", 90, "losartan", "RASA"),
                fill("2022-07-05", 90, "losartan", "RASA"),
                fill("2022-09-25", 90, "losartan", "RASA"),
            ],
            353,
            365,
            0.967123,
            id="DIFFDRUG",
        ),
        pytest.param(
            [
                fill("2022-01-01", 90, "lisinopril", "RASA"),
                fill("2022-03-25", 90, "lisinopril", "RASA"),
                fill("2022-09-25", 90, "lisinopril", "RASA"),
            ],
            270,
            365,
            0.739726,
            id="NONADH",
        ),
        pytest.param(
            [
                fill("2022-01-01", 90, "lisinopril", "RASA"),
                fill("2022-03-25", 90, "lisinopril/hydrochlorothiazide", "RASA"),
                fill("2022-07-05", 90, "lisinopril/hydrochlorothiazide", "RASA"),
                fill("2022-09-25", 90, "lisinopril/hydrochlorothiazide", "RASA"),
            ],
            360,
            365,
            0.986301,
            id="COMBPROD",
        ),
        pytest.param(
            [
                fill("2022-01-02", 90, "lisinopril", "RASA"),
                fill("2022-03-25", 90, "lisinopril", "RASA"),
                fill("2022-03-25", 90, "losartan", "RASA"),
                fill("2022-07-05", 90, "losartan", "RASA"),
                fill("2022-09-25", 90, "losartan", "RASA"),
            ],
            360,
            364,
            0.989011,
            id="CONCUSE",
        ),
    ],
)
def test_it_reproduces_the_published_pdc_python_results(
    fills: list[Fill], covered: int, period: int, pdc: float
) -> None:
    result = only(fills, YEAR_2022)
    assert (result.covered_days, result.period_days) == (covered, period)
    assert result.to_json()["pdc"] == pdc


# -- worked by hand ----------------------------------------------------------------------------


def test_it_shifts_a_combination_product_after_each_ingredient_it_shares() -> None:
    # Metformin and glipizide together from 01/01 (to 03/31); the combination is picked up
    # a week early on 03/25. Per ingredient it starts 04/01, so 01/01-06/29 is covered: 180.
    # (Not shifting it would cover only to 06/22: 173.)
    fills = [
        fill("2018-01-01", 90),
        fill("2018-01-01", 90, "glipizide"),
        fill("2018-03-25", 90, "metformin/glipizide"),
    ]
    assert only(fills).covered_days == 180


def test_it_takes_the_longest_supply_of_one_drug_filled_twice_on_a_day() -> None:
    # 01/01 twice (30 and 90 days) counts as one 90-day fill: 01/01-03/31, then 07/01-07/30.
    fills = [fill("2018-01-01", 30), fill("2018-01-01", 90), fill("2018-07-01", 30)]
    assert only(fills).covered_days == 120


def test_it_caps_the_pdc_at_one() -> None:
    fills = [fill("2018-01-01", 365), fill("2018-02-01", 365), fill("2018-03-01", 90, "glipizide")]
    result = only(fills)
    assert (result.covered_days, result.period_days, result.pdc) == (365, 365, 1.0)


@pytest.mark.parametrize(
    ("index", "has_pdc"),
    [("2018-10-01", True), ("2018-10-02", False)],  # Dec 31 - Oct 1 = 91 days
)
def test_it_draws_the_index_date_line_at_91_days(index: str, has_pdc: bool) -> None:
    result = only([fill(index, 30), fill("2018-12-01", 30)])
    assert (result.pdc is not None) is has_pdc


def test_it_starts_the_period_at_the_first_fill_on_or_after_the_start() -> None:
    # The December fill is before --from: no carry-over; the index is 02/01, and 02/01-12/31
    # is 365 - 31 = 334 days.
    fills = [fill("2017-12-15", 90), fill("2018-02-01", 90), fill("2018-05-02", 90)]
    result = only(fills)
    assert (result.index_date, result.period_days, result.covered_days) == (
        D("2018-02-01"),
        334,
        180,
    )


def test_it_ignores_fills_after_the_end() -> None:
    result = only([fill("2018-01-01", 90), fill("2018-04-01", 90), fill("2019-01-01", 90)])
    assert result.covered_days == 180


def test_it_reports_each_class_separately_and_in_order() -> None:
    fills = [
        fill("2018-01-01", 90, "lisinopril", "RASA"),
        fill("2018-01-01", 90, "atorvastatin", "statin"),
        fill("2018-04-01", 90, "atorvastatin", "statin"),
    ]
    results = pdc_by_class("P", fills, *YEAR_2018)
    assert [(r.drug_class, r.covered_days, r.reason) for r in results] == [
        ("RASA", None, FEWER_THAN_TWO_FILLS),
        ("statin", 180, None),
    ]


def test_it_serializes_the_spec_fields() -> None:
    document = only([fill("2018-01-01", 90), fill("2018-04-01", 90, "glipizide")]).to_json()
    assert document == {
        "patient_id": "P",
        "drug_class": "diabetes",
        "pdc": 0.493151,  # 180 / 365
        "covered_days": 180,
        "period_days": 365,
        "index_date": "2018-01-01",
        "adherent": False,
        "reason": None,
    }


def test_it_refuses_a_period_that_ends_before_it_starts() -> None:
    with pytest.raises(ValueError, match="ends before"):
        list(adherence([("P", [])], D("2018-12-31"), D("2018-01-01")))


# -- enrollment candidates ---------------------------------------------------------------------


def test_it_counts_maintenance_drugs_by_active_ingredient() -> None:
    fills = [
        fill("2018-01-01", 30, "lisinopril", "RASA"),
        fill("2018-02-01", 30, "lisinopril/hydrochlorothiazide", "RASA"),  # dose change
        fill("2018-03-01", 30, "lisinopril/hydrochlorothiazide", "RASA"),
        fill("2018-01-10", 90, "atorvastatin", "statin"),  # one 90-day fill is maintenance
        fill("2018-03-01", 10, "amoxicillin", "antibiotic"),  # a one-off course is not
    ]
    assert maintenance_ingredients(fills, *YEAR_2018) == (
        "atorvastatin",
        "hydrochlorothiazide",
        "lisinopril",
    )


def test_it_finds_a_candidate_by_drug_count_or_by_low_pdc() -> None:
    adherent_three = [
        fill(f"2018-{month:02d}-01", 30, drug, cls)
        for month in range(1, 13)
        for drug, cls in [("metformin", "diabetes"), ("lisinopril", "RASA"), ("simva", "statin")]
    ]
    candidate = find_candidate("P", adherent_three, *YEAR_2018, min_meds=3)
    assert candidate is not None
    assert candidate.reasons == ("3 maintenance drugs",)
    assert find_candidate("P", adherent_three, *YEAR_2018, min_meds=4) is None
    # One drug, filled three times a year for 30 days: PDC 90 / 365 (January to December).
    low = [fill("2018-01-01", 30), fill("2018-06-01", 30), fill("2018-12-02", 30)]
    candidate = find_candidate("P", low, *YEAR_2018, min_meds=3)
    assert candidate is not None
    assert candidate.reasons == ("PDC 24.7% in diabetes",)
    assert candidate.to_json()["low_pdc"] == [{"drug_class": "diabetes", "pdc": 0.246575}]
