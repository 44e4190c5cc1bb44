"""The patients page and `GET /api/patients` (SPEC 14, 5.3): search by name, PMS id, phone in
any format and birth date; the five statuses, defined once; paging; the patient page by the
pharmacy's own id; the household on the patient page; store isolation."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import AuditEvent, ConsentState, Role
from tests.factories import make_patient, make_store
from tests.workspace_helpers import StaffClient, make_user

FUTURE = dt.date.today() + dt.timedelta(days=20)


@pytest.fixture
def roster(app: Flask, session: Session) -> dict[str, object]:
    """One patient per status in store A (two Maria Garcias among them), one in store B."""
    a = make_store(session, "a", name="Alpha Pharmacy")
    b = make_store(session, "b", name="Beta Pharmacy", from_number="+12025550177")
    born = {"birth_date": dt.date(1948, 3, 9)}
    enrolled = make_patient(
        session, a, "P1", first_name="Maria", last_name="Garcia", anchor_date=FUTURE, **born
    )
    twin = make_patient(
        session,
        a,
        "P2",
        first_name="Maria",
        last_name="Garcia",
        phone="+12025550144",
        birth_date=dt.date(1961, 7, 14),
        consent_date=None,
        consent_state=ConsentState.DECLINED,
        anchor_date=FUTURE,
    )
    opted = make_patient(
        session,
        a,
        "P3",
        first_name="Olga",
        last_name="Petrov",
        phone="+12025550145",
        opted_out_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        anchor_date=FUTURE,
    )
    paused = make_patient(
        session,
        a,
        "P4",
        first_name="Paul",
        last_name="Ames",
        phone="+12025550143",
        anchor_date=FUTURE,
    )
    assert paused.enrollment is not None
    paused.enrollment.paused_until = FUTURE
    left = make_patient(
        session,
        a,
        "P5",
        first_name="Dora",
        last_name="Lee",
        phone="+12025550146",
        anchor_date=FUTURE,
    )
    assert left.enrollment is not None
    left.enrollment.active = False
    other = make_patient(session, b, "P1", first_name="Maria", last_name="Garcia")
    make_user(session, "pharm@a.org", Role.PHARMACIST, a)
    token = make_user(session, "api@a.org", Role.TECHNICIAN, a)
    session.commit()
    return {
        "enrolled": enrolled.id,
        "twin": twin.id,
        "opted": opted.id,
        "paused": paused.id,
        "left": left.id,
        "other": other.id,
        "token": token,
    }


def api(app: Flask, token: object, path: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    response = app.test_client().get(path, headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.get_json()


def ids_of(app: Flask, roster: dict[str, object], query: str) -> list[str]:
    status, body = api(app, roster["token"], f"/api/patients?{query}")
    assert status == 200, body
    return [item["patient_id"] for item in body["items"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=maria", ["P1", "P2"]),  # both Maria Garcias of store A, not store B's
        ("q=garcia+maria", ["P1", "P2"]),
        ("q=Garcia,+Maria", ["P1", "P2"]),
        ("q=P3", ["P3"]),
        ("q=(202)+555-0144", ["P2"]),
        ("q=%2B1+202.555.0144", ["P2"]),
        ("q=202-555-0143", ["P4", "P1"]),  # a shared phone: both patients on it
        ("q=1948-03-09", ["P1"]),
        ("q=03/09/1948", ["P1"]),
        ("q=nobody", []),
        ("status=enrolled", ["P1"]),
        ("status=not_consented", ["P2"]),
        ("status=opted_out", ["P3"]),
        ("status=paused", ["P4"]),
        ("status=disenrolled", ["P5"]),
        ("q=maria&status=not_consented", ["P2"]),
    ],
)
def test_the_api_finds_patients_by_every_key_and_status(
    app: Flask, roster: dict[str, object], query: str, expected: list[str]
) -> None:
    assert ids_of(app, roster, query) == expected


def test_the_api_answers_the_spec_fields(app: Flask, roster: dict[str, object]) -> None:
    status, body = api(app, roster["token"], "/api/patients?q=P1")
    assert status == 200
    [item] = body["items"]
    assert {
        k: item[k] for k in ("patient_id", "name", "birth_date", "phone", "store", "status")
    } == {
        "patient_id": "P1",
        "name": "Maria Garcia",
        "birth_date": "1948-03-09",
        "phone": "+12025550143",
        "store": "a",
        "status": "enrolled",
    }


@pytest.mark.parametrize(
    "query", ["status=gone", "after=abc", "after=-1", "per_page=0", "per_page=9999", "after=99999"]
)
def test_the_api_refuses_bad_filters_with_a_clear_400(
    app: Flask, roster: dict[str, object], query: str
) -> None:
    status, body = api(app, roster["token"], f"/api/patients?{query}")
    assert status == 400 and body["error"]


def test_the_api_pages_by_name_with_a_cursor(app: Flask, roster: dict[str, object]) -> None:
    seen: list[str] = []
    query = "per_page=2"
    while True:
        status, body = api(app, roster["token"], f"/api/patients?{query}")
        assert status == 200 and body["total"] == 5
        seen += [item["name"] for item in body["items"]]
        if body["next_after"] is None:
            break
        query = f"per_page=2&after={body['next_after']}"
    assert seen == ["Paul Ames", "Maria Garcia", "Maria Garcia", "Dora Lee", "Olga Petrov"]


def test_the_page_lists_names_birth_dates_and_statuses(
    app: Flask, roster: dict[str, object], session: Session
) -> None:
    me = StaffClient.signed_in(app, "pharm@a.org")
    page = me.get("/patients?q=maria").get_data(as_text=True)
    assert page.count("Garcia, Maria") == 2
    assert "1948-03-09" in page and "1961-07-14" in page
    assert "Enrolled" in page and "Not consented" in page and "Declined" in page
    for status, label in [("paused", "Paused"), ("disenrolled", "Disenrolled")]:
        listed = me.get(f"/patients?status={status}").get_data(as_text=True)
        assert f'<span class="status {status}">{label}</span>' in listed
    assert "view_patients" in session.scalars(select(AuditEvent.action)).all()


def test_the_page_refuses_a_bad_cursor(app: Flask, roster: dict[str, object]) -> None:
    me = StaffClient.signed_in(app, "pharm@a.org")
    assert me.get("/patients?after=x").status_code == 400
    assert me.get(f"/patients?after={roster['other']}").status_code == 400  # another store's


def test_the_patient_page_is_reachable_by_the_pharmacys_own_id(
    app: Flask, roster: dict[str, object]
) -> None:
    me = StaffClient.signed_in(app, "pharm@a.org")
    response = me.get("/patients/by-id/P3")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/patients/{roster['opted']}")
    assert me.get("/patients/by-id/P3?store=a").status_code == 302
    assert me.get("/patients/by-id/P3?store=b").status_code == 404
    assert me.get("/patients/by-id/P9").status_code == 404


def test_the_patient_page_shows_the_household_on_the_same_phone(
    app: Flask, roster: dict[str, object]
) -> None:
    me = StaffClient.signed_in(app, "pharm@a.org")
    page = html.unescape(me.get(f"/patients/{roster['enrolled']}").get_data(as_text=True))
    assert "Shares this phone" in page and "Paul Ames" in page
    assert "March 09, 1948" in page
    paused = html.unescape(me.get(f"/patients/{roster['paused']}").get_data(as_text=True))
    assert "Maria Garcia" in paused and "born 1948-03-09" in paused
    assert '<span class="status paused">Paused</span>' in paused
    assert f"Until {FUTURE.strftime('%A %B %d')}" in paused
