"""The workload page (SPEC 13): fills per day for four weeks, per store, days over the daily
fill limit said in words; and the enroll page's anchor suggestion avoids the full days."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from planning.sync import Medication, suggest_anchor
from store.models import Enrollment, Role
from tests.factories import make_patient, make_store
from tests.workspace_helpers import StaffClient, make_user

TODAY = dt.date.today()  # the page runs on the real clock


def day(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def label(n: int) -> str:
    return day(n).strftime("%a %b %d")


@pytest.fixture
def pharmacist(app: Flask, session: Session) -> StaffClient:
    store = make_store(session, "a", daily_fill_limit=2)
    other = make_store(session, "b", name="Other Pharmacy")
    for n in range(3):  # three on day 3: over a limit of two
        make_patient(session, store, f"P{n}", phone=f"+120255500{n:02d}", anchor_date=day(3))
    make_patient(session, store, "Q1", phone="+12025550110", anchor_date=day(5))
    weekly = make_patient(session, store, "W1", phone="+12025550111", anchor_date=day(1))
    assert weekly.enrollment is not None
    weekly.enrollment.cycle_days = 7  # days 1, 8, 15, 22
    gone = make_patient(session, store, "D1", phone="+12025550112", anchor_date=day(5))
    assert gone.enrollment is not None
    gone.enrollment.active = False  # disenrolled: nothing to fill
    make_patient(session, other, "O1", phone="+12025550113", anchor_date=day(5))
    make_user(session, "ph@a.org", Role.PHARMACIST, store)
    session.commit()
    return StaffClient.signed_in(app, "ph@a.org")


def rows(page: str) -> dict[str, str]:
    """Each date's table row, as text."""
    found = {}
    for chunk in page.split("<tr")[2:]:
        cells = [c.split("</td>")[0] for c in chunk.split("<td>")[1:]]
        if cells:
            found[cells[0]] = " | ".join(
                html.unescape(c).replace('<strong class="tag">', "").replace("</strong>", "")
                for c in cells[1:]
            )
    return found


def test_fills_per_day_for_four_weeks_with_the_days_over_the_limit(
    pharmacist: StaffClient,
) -> None:
    page = pharmacist.get("/workload").get_data(as_text=True)
    assert "Daily limit: 2 patients." in page
    assert "1 day over the limit." in page
    table = rows(page)
    assert len(table) == 28 and label(0) in table and label(27) in table
    # patients | maintenance medicines (one each) | load
    assert table[label(3)] == "3 | 3 | Over the limit by 1"
    assert table[label(5)] == "1 | 1 | 1 under the limit"  # not the disenrolled one
    for n in (1, 8, 15, 22):
        assert table[label(n)] == "1 | 1 | 1 under the limit", n
    assert table[label(2)] == "0 | 0 | Nothing due"
    assert "Other Pharmacy" not in page


def test_the_next_four_weeks_are_one_click_away(pharmacist: StaffClient) -> None:
    page = pharmacist.get("/workload").get_data(as_text=True)
    later = day(28).isoformat()
    assert f"/workload?from={later}" in page
    table = rows(pharmacist.get(f"/workload?from={later}").get_data(as_text=True))
    assert table[label(29)] == "1 | 1 | 1 under the limit"  # the weekly patient, day 29


@pytest.mark.parametrize("bad", ["tomorrow", "2026-02-30", "99999-01-01"])
def test_a_bad_date_is_refused(pharmacist: StaffClient, bad: str) -> None:
    assert pharmacist.get(f"/workload?from={bad}").status_code == 400


def test_the_suggestion_avoids_a_full_day() -> None:
    start = dt.date(2027, 1, 1)
    meds = [Medication("Metformin", days_supply=30, last_fill_date=start - dt.timedelta(days=30))]
    assert suggest_anchor(meds).anchor == start
    avoided = suggest_anchor(meds, avoid=frozenset({start}))
    assert avoided.anchor == start + dt.timedelta(days=1)  # one short-fill day more
    assert "at its daily fill limit" in avoided.reason
    # Only a full day fits (a whole package pins the date): it is still suggested, and said.
    pen = [
        Medication(
            "Insulin pen",
            days_supply=30,
            last_fill_date=start - dt.timedelta(days=30),
            package="whole",
        )
    ]
    pinned = suggest_anchor(pen, avoid=frozenset({start}))
    assert pinned.anchor == start and "no other date fits" in pinned.reason


def test_the_enroll_page_suggests_a_day_under_the_limit(app: Flask, session: Session) -> None:
    store = make_store(session, "a", daily_fill_limit=1)
    due = day(10)
    make_patient(session, store, "FULL", phone="+12025550120", anchor_date=due)
    newcomer = make_patient(session, store, "NEW", phone="+12025550121", consent_date=None)
    session.delete(newcomer.enrollment)
    for medicine in newcomer.medicines:
        medicine.last_fill_date = due - dt.timedelta(days=30)  # Metformin due on `due`
    make_user(session, "ph@a.org", Role.PHARMACIST, store)
    session.commit()
    assert session.get(Enrollment, 1) is not None
    me = StaffClient.signed_in(app, "ph@a.org")
    page = html.unescape(me.get(f"/patients/{newcomer.id}/enroll").get_data(as_text=True))
    nxt = day(11)
    assert f"The planner suggests <strong>{nxt.strftime('%A %B %d')}</strong>" in page
    assert "at its daily fill limit" in page
