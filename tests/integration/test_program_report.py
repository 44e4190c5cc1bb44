"""The program report's read model against a hand-worked history (tests/report_history.py)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy.orm import Session

from planning.fills import group_by_patient, read_fills
from planning.trend import pdc_trend, star_class, trend_days
from store.models import Purpose
from store.reports import Period, PeriodError, enrolled_patient_ids, program_report
from tests.factories import make_store
from tests.report_history import (
    EXPECTED,
    EXPECTED_DAYS,
    FILLS_CSV,
    NOV_FROM,
    NOV_TO,
    STATIN_NOV_30,
    seed_november,
    send,
)


def test_every_measure_matches_the_hand_worked_november(session: Session) -> None:
    store = make_store(session)
    seed_november(session, store)
    answer = program_report(session, [store.id], Period(NOV_FROM, NOV_TO)).to_json()
    for name, expected in EXPECTED.items():
        assert answer[name] == expected, name
    days = {entry["date"]: entry for entry in answer["fills_per_day"]}
    assert len(days) == 30  # every day of November, zeros included
    for day, entry in days.items():
        assert {k: entry[k] for k in ("due", "filled")} == EXPECTED_DAYS.get(
            day, {"due": 0, "filled": 0}
        ), day


def test_a_chain_adds_its_stores_up_and_each_store_sees_only_its_own(session: Session) -> None:
    main = make_store(session)
    seed_november(session, main)
    other = make_store(session, "east", from_number="+12025550111", enrollment_target=50)
    seed_november(session, other)
    period = Period(NOV_FROM, NOV_TO)
    chain = program_report(session, [main.id, other.id], period).to_json()
    assert [s["stores"] for s in chain["per_store"]] == [["east"], ["main"]]
    assert chain["enrolled"] == 12 and chain["target"] == 150 and chain["target_share"] == 0.08
    assert chain["contacted"] == 10 and chain["response_rate"] == 0.6
    assert chain["median_hours_to_clear"] == 13.0
    assert chain["pqa"]["initial_sync_rate"] == {"numerator": 2, "denominator": 6, "rate": 0.3333}
    alone = program_report(session, [main.id], period).to_json()
    assert alone["enrolled"] == 6 and alone["per_store"][0]["stores"] == ["main"]


def test_a_store_with_nothing_reports_zeros_not_missing_keys(session: Session) -> None:
    store = make_store(session)
    answer = program_report(session, [store.id], Period(NOV_FROM, NOV_TO)).to_json()
    assert set(EXPECTED) <= set(answer)
    assert answer["response_rate"] == 0.0 and answer["median_hours_to_clear"] == 0.0
    assert set(answer["checkins"].values()) == {0} and len(answer["checkins"]) == 8
    assert set(answer["items"].values()) == {0} and len(answer["items"]) == 13


def test_a_day_is_the_stores_local_day(session: Session) -> None:
    """A welcome sent at 23:30 New York time on Nov 30 (04:30 UTC Dec 1) is November's."""
    store = make_store(session)
    patients = seed_november(session, store)
    send(
        session,
        patients["P9"],
        dt.datetime(2026, 12, 1, 4, 30, tzinfo=dt.UTC),
        Purpose.WELCOME,
        "delivered",
    )
    answer = program_report(session, [store.id], Period(NOV_FROM, NOV_TO)).to_json()
    assert answer["contacted"] == EXPECTED["contacted"] + 1


def test_periods_that_cannot_be_reported_are_refused() -> None:
    with pytest.raises(PeriodError):
        Period(NOV_TO, NOV_FROM)
    with pytest.raises(PeriodError):
        Period(dt.date(2020, 1, 1), dt.date(2026, 1, 1))
    assert Period.last_days(NOV_TO).start == dt.date(2026, 11, 1)


def test_pdc_by_star_class_for_enrolled_patients(session: Session) -> None:
    store = make_store(session)
    seed_november(session, store)
    rejected: list[tuple[int, str]] = []
    groups = group_by_patient(
        read_fills(io.StringIO(FILLS_CSV), lambda row, why: rejected.append((row, why)))
    )
    assert [row for row, _ in rejected] == [11]
    enrolled = enrolled_patient_ids(session, [store.id])
    assert "P4" not in enrolled and "P1" in enrolled
    assert trend_days(NOV_FROM, NOV_TO) == [NOV_TO]
    points = {p.drug_class: p for p in pdc_trend(groups, enrolled, [NOV_TO])}
    assert points["statin"].patients == 1 and points["statin"].adherent == 0
    assert points["statin"].mean_pdc == STATIN_NOV_30
    assert (points["RASA"].patients, points["RASA"].adherent, points["RASA"].mean_pdc) == (
        1,
        1,
        1.0,
    )
    assert points["diabetes"].patients == 0 and points["diabetes"].mean_pdc is None
    # Oct 31: P1's statin is 120 of 153 days (index Jun 1).
    october = {p.drug_class: p for p in pdc_trend(groups, enrolled, [dt.date(2026, 10, 31)])}
    assert october["statin"].mean_pdc == round(120 / 153, 4)


def test_trend_points_are_month_ends_and_the_last_day() -> None:
    assert trend_days(dt.date(2026, 1, 15), dt.date(2026, 4, 10)) == [
        dt.date(2026, 1, 31),
        dt.date(2026, 2, 28),
        dt.date(2026, 3, 31),
        dt.date(2026, 4, 10),
    ]
    assert star_class(" Statins ") == "statin" and star_class("rasa") == "RASA"
    assert star_class("beta blocker") is None
