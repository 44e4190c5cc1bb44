"""The Upcoming page's `?days=`: one rule for every value, and words that read right."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from bot.workspace import upcoming_days
from store.models import CheckinStatus, Role
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
    assert "No enrolled patient with a fill date on Monday December 07." in one
    assert "1 days" not in one


def test_the_empty_page_names_the_dates_it_looked_at(pharmacist: StaffClient) -> None:
    page = pharmacist.get("/upcoming?from=2026-12-09&days=3").get_data(as_text=True)
    assert (
        "No enrolled patient with a fill date from Wednesday December 09 to Friday December 11"
        " (3 days)."
    ) in page
    assert 'min="1" max="62" value="3"' in page


def test_every_enrolled_patient_is_on_the_calendar_not_only_started_checkins(
    app: Flask, session: Session
) -> None:
    """Issue 13: days 8-14 were always empty and patients without consent appeared nowhere."""
    store = make_store(session, "a")
    other = make_store(session, "b")
    started = make_patient(session, store, "P1", anchor_date=dt.date(2026, 12, 8))
    make_checkin(session, started, status=CheckinStatus.CONFIRMED)
    make_patient(
        session,
        store,
        "P2",
        first_name="Ben",
        phone="+12025550144",
        anchor_date=dt.date(2026, 12, 18),  # day 12: no check-in yet
    )
    make_patient(
        session,
        store,
        "P3",
        first_name="Cy",
        phone="+12025550145",
        consent_date=None,  # never contacted, still filled
        anchor_date=dt.date(2026, 12, 18),
    )
    weekly = make_patient(
        session,
        store,
        "P4",
        first_name="Di",
        phone="+12025550146",
        anchor_date=dt.date(2026, 12, 9),
    )
    assert weekly.enrollment is not None
    weekly.enrollment.cycle_days = 7
    gone = make_patient(
        session,
        store,
        "P5",
        first_name="Ed",
        phone="+12025550147",
        anchor_date=dt.date(2026, 12, 9),
    )
    assert gone.enrollment is not None
    gone.enrollment.active = False
    make_patient(session, other, "P9", first_name="Far", anchor_date=dt.date(2026, 12, 9))
    make_user(session, "ph@a.org", Role.PHARMACIST, store)
    session.commit()
    me = StaffClient.signed_in(app, "ph@a.org")
    page = me.get("/upcoming?from=2026-12-07&days=14").get_data(as_text=True)
    sections = {chunk.split("<span")[0].strip(): chunk for chunk in page.split("<h2>")[1:]}
    assert list(sections) == [  # by date
        "Tuesday December 08",
        "Wednesday December 09",
        "Wednesday December 16",
        "Friday December 18",
    ]
    assert "Ana Lopez" in sections["Tuesday December 08"]
    assert '<span class="status confirmed">confirmed</span>' in sections["Tuesday December 08"]
    assert "Di Lopez" in sections["Wednesday December 09"]
    assert "Di Lopez" in sections["Wednesday December 16"]  # the next weekly cycle
    assert "Ed Lopez" not in page and "Far Lopez" not in page
    day12 = sections["Friday December 18"]
    assert "Ben Lopez" in day12 and "Cy Lopez" in day12
    ben = day12.split("Ben Lopez")[1].split("</tr>")[0]
    cy = day12.split("Cy Lopez")[1].split("</tr>")[0]
    assert "Enrolled" in ben and "Not started yet" in ben
    assert "Not consented" in cy and "None: not contacted" in cy
