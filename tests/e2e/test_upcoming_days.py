"""The Upcoming page's `?days=`: one rule for every value, and words that read right."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from bot.workspace import upcoming_days
from store.models import Role
from tests.factories import make_checkin, make_patient, make_store
from tests.workspace_helpers import StaffClient, make_user


@pytest.mark.parametrize(
    ("raw", "days"),
    [
        (None, 14),
        ("", 14),
        ("abc", 14),
        ("2.5", 14),
        ("7", 7),
        ("1", 1),
        ("0", 1),  # was two weeks, while -1 was one day
        ("-5", 1),
        ("62", 62),
        ("99999999999999999999", 62),
    ],
)
def test_one_rule_for_the_days_parameter(raw: str | None, days: int) -> None:
    assert upcoming_days(raw) == days


@pytest.fixture
def pharmacist(app: Flask, session: Session) -> StaffClient:
    store = make_store(session, "a")
    ana = make_patient(session, store, anchor_date=dt.date(2026, 12, 8))
    make_checkin(session, ana)
    make_user(session, "ph@a.org", Role.PHARMACIST, store)
    session.commit()
    return StaffClient.signed_in(app, "ph@a.org")


def test_days_counts_fill_dates_from_the_first(pharmacist: StaffClient) -> None:
    # Ana's fill date is 8 December: the 2nd of two days from the 7th, not in one day.
    two = pharmacist.get("/upcoming?from=2026-12-07&days=2").get_data(as_text=True)
    assert "Ana Lopez" in two
    one = pharmacist.get("/upcoming?from=2026-12-07&days=1").get_data(as_text=True)
    assert "Ana Lopez" not in one
    assert "No check-ins with a fill date on Monday December 07." in one
    assert "1 days" not in one


def test_the_empty_page_names_the_dates_it_looked_at(pharmacist: StaffClient) -> None:
    page = pharmacist.get("/upcoming?from=2026-12-09&days=3").get_data(as_text=True)
    assert (
        "No check-ins with a fill date from Wednesday December 09 to Friday December 11 (3 days)."
    ) in page
    assert 'min="1" max="62" value="3"' in page
