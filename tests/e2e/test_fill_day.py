"""The fill-day list (SPEC 13): every row type, the actions, blockers first, page and API
alike, fill states with their audit, bulk prepare, delivery, the CSV, and bad input."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from store.models import (
    AuditEvent,
    CheckinStatus,
    Delivery,
    Fill,
    FillState,
    Medicine,
    MedType,
    Package,
    QueueItem,
    QueueKind,
    QueueStatus,
    Role,
    utcnow,
)
from tests.factories import make_checkin, make_patient, make_store
from tests.workspace_helpers import StaffClient, make_user

DAY = dt.date(2026, 12, 7)
PAGE = f"/fills?date={DAY}"


def _meds(day: dt.date = DAY) -> list[Medicine]:
    return [
        # Due on the anchor: fill.
        Medicine(
            name="Metformin 500 mg",
            med_type=MedType.MAINTENANCE,
            days_supply=30,
            last_fill_date=day - dt.timedelta(days=30),
            refills_remaining=3,
        ),
        # 10 days left on the anchor, one a day: a short fill of 20 to reach the next anchor.
        Medicine(
            name="Lisinopril 10 mg",
            med_type=MedType.MAINTENANCE,
            days_supply=30,
            quantity=30,
            daily_dose=1,
            last_fill_date=day - dt.timedelta(days=20),
            refills_remaining=2,
        ),
        # 10 days left, whole package: cannot be cut, so not due yet.
        Medicine(
            name="Insulin glargine pen",
            med_type=MedType.MAINTENANCE,
            days_supply=30,
            last_fill_date=day - dt.timedelta(days=20),
            package=Package.WHOLE,
        ),
        Medicine(name="Albuterol HFA", med_type=MedType.PRN),
    ]


def _item(session: Session, patient: Any, checkin: Any, kind: QueueKind, text: str) -> QueueItem:
    item = QueueItem(
        store_id=patient.store_id,
        patient_id=patient.id,
        checkin_id=checkin.id if checkin else None,
        kind=kind,
        text=text,
        anchor_date=DAY,
    )
    session.add(item)
    session.flush()
    return item


@pytest.fixture
def day(app: Flask, session: Session) -> dict[str, Any]:
    """One store's Monday: a patient of every kind, and some who are not on the list."""
    store = make_store(session, "a")
    other = make_store(session, "b", from_number="+12025550111")
    people: dict[str, Any] = {}
    n = 0

    def patient(key: str, last: str, **kw: Any) -> Any:
        nonlocal n
        n += 1
        anchor = kw.pop("anchor_date", DAY)
        where = kw.pop("store", store)
        found = make_patient(
            session,
            where,
            f"P{n}",
            anchor_date=anchor,
            first_name=key.capitalize(),
            last_name=last,
            phone=f"+1202555{1000 + n}",
            **kw,
        )
        found.medicines.clear()
        session.flush()
        found.medicines.extend(_meds())
        session.flush()
        people[key] = found
        return found

    confirmed = patient("confirmed", "Adams")
    make_checkin(session, confirmed, status=CheckinStatus.CONFIRMED)
    renewal = patient("renewal", "Baker")
    make_checkin(session, renewal, status=CheckinStatus.CONFIRMED)
    renewal.medicines[1].refills_remaining = 0  # Lisinopril, to be short-filled
    changed = patient("changed", "Clark")
    c = make_checkin(session, changed, status=CheckinStatus.FLAGGED)
    c.topics = {"med_change": "reported"}
    _item(session, changed, c, QueueKind.MED_CHANGE, "I stopped my metformin")
    prn = patient("prn", "Davis")
    c = make_checkin(session, prn, status=CheckinStatus.FLAGGED)
    c.topics = {"prn_need": "reported"}
    item = _item(session, prn, c, QueueKind.PRN_NEED, "I need my inhaler")
    item.status = QueueStatus.RESOLVED  # cleared, still to fill
    make_checkin(session, patient("incomplete", "Evans"), status=CheckinStatus.INCOMPLETE)
    unreachable = patient("unreachable", "Fox")
    c = make_checkin(session, unreachable, status=CheckinStatus.UNREACHABLE)
    _item(session, unreachable, c, QueueKind.UNREACHABLE, None)  # type: ignore[arg-type]
    patient("noconsent", "Green", consent_date=None)
    patient("optedout", "Hill", opted_out_at=utcnow())
    paused = patient("paused", "Irwin")
    paused.enrollment.paused_until = DAY + dt.timedelta(days=3)
    patient("nocheckin", "Jones")
    gone = patient("disenrolled", "King")
    gone.enrollment.active = False
    patient("tomorrow", "Lee", anchor_date=DAY + dt.timedelta(days=1))
    patient("elsewhere", "Moore", store=other)
    make_user(session, "tech@a.org", Role.TECHNICIAN, store)
    people["token"] = make_user(session, "api@a.org", Role.TECHNICIAN, store)
    session.commit()
    people["client"] = StaffClient.signed_in(app, "tech@a.org")
    return people


def _api(app: Flask, token: str, path: str, body: dict[str, Any] | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    if body is None:
        return client.get(path, headers=headers)
    return client.post(path, headers=headers, json=body)


def _rows(app: Flask, day: dict[str, Any]) -> dict[str, dict[str, Any]]:
    answer = _api(app, day["token"], f"/api/fills?date={DAY}")
    assert answer.status_code == 200, answer.data
    return {row["patient_name"].split()[0].lower(): row for row in answer.get_json()["items"]}


def _actions(row: dict[str, Any]) -> dict[str, tuple[str, int | None]]:
    return {m["name"].split()[0]: (m["action"], m["quantity"]) for m in row["medicines"]}


def test_every_patient_due_has_a_row_whatever_their_check_in_did(
    app: Flask, day: dict[str, Any]
) -> None:
    rows = _rows(app, day)
    assert set(rows) == {
        "confirmed",
        "renewal",
        "changed",
        "prn",
        "incomplete",
        "unreachable",
        "noconsent",
        "optedout",
        "paused",
        "nocheckin",
    }
    assert rows["confirmed"]["checkin_status"] == "confirmed"
    assert rows["nocheckin"]["checkin_status"] is None
    assert rows["noconsent"]["roster_status"] == "not_consented"
    assert rows["optedout"]["roster_status"] == "opted_out"
    assert rows["paused"]["roster_status"] == "paused"
    assert rows["unreachable"]["open_items"][0]["kind"] == "unreachable"
    assert rows["changed"]["topics"]["med_change"] == "reported"
    assert rows["changed"]["open_items"] == [
        {
            "id": rows["changed"]["open_items"][0]["id"],
            "kind": "med_change",
            "text": "I stopped my metformin",
        }
    ]
    assert [p["text"] for p in rows["prn"]["prn_requests"]] == ["I need my inhaler"]
    assert rows["prn"]["open_items"] == []
    assert all(row["id"] is None and row["state"] == "to_prepare" for row in rows.values())
    assert all(row["delivery"] == "pickup" for row in rows.values())


def test_each_medicine_has_its_action_from_the_sync_plan(app: Flask, day: dict[str, Any]) -> None:
    rows = _rows(app, day)
    assert _actions(rows["confirmed"]) == {
        "Metformin": ("fill", None),
        "Lisinopril": ("short_fill", 20),
        "Insulin": ("not_due", None),
    }
    assert _actions(rows["renewal"])["Lisinopril"] == ("renewal_needed", None)
    assert _actions(rows["changed"]) == {
        "Metformin": ("hold", None),
        "Lisinopril": ("hold", None),
        "Insulin": ("not_due", None),
    }
    metformin = [m for m in rows["changed"]["medicines"] if m["name"].startswith("Metformin")]
    assert metformin[0]["reason"].startswith("open med change item: ")
    # PRN medicines are not planned; the request is its own list.
    assert all(m["name"] != "Albuterol HFA" for row in rows.values() for m in row["medicines"])


def test_what_blocks_a_fill_comes_first(app: Flask, day: dict[str, Any]) -> None:
    answer = _api(app, day["token"], f"/api/fills?date={DAY}").get_json()["items"]
    order = [row["patient_name"].split()[0].lower() for row in answer]
    assert order == [
        "changed",  # hold
        "renewal",  # open items / renewal
        "unreachable",
        "incomplete",  # no answer (by last name)
        "nocheckin",
        "noconsent",  # not contacted
        "optedout",
        "paused",
        "confirmed",  # ready to fill
        "prn",
    ]
    assert [row["blocker"] for row in answer][:3] == ["hold", "open_items", "open_items"]
    assert answer[-1]["blocker"] is None


def test_the_page_shows_the_same_rows_with_links_to_the_days_around(
    app: Flask, day: dict[str, Any]
) -> None:
    page = day["client"].get(PAGE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name in ("Changed Clark", "Paused Irwin", "Nocheckin Jones", "Confirmed Adams"):
        assert name in html
    assert "King" not in html and "Moore" not in html and "Tomorrow Lee" not in html
    assert html.index("Changed Clark") < html.index("Confirmed Adams")
    assert "/fills?date=2026-12-06" in html and "/fills?date=2026-12-08" in html
    assert "Short fill 20</strong> Lisinopril" in html
    assert "I stopped my metformin" in html
    printed = day["client"].get(f"/fills/print?date={DAY}").get_data(as_text=True)
    assert "Pick list" in printed and "Confirmed Adams" in printed
    assert "fills_print.css" in printed


@pytest.mark.parametrize("bad", ["2026-13-01", "tomorrow", "2026-12-7x", "99999-01-01"])
def test_a_bad_date_is_a_clear_400(app: Flask, day: dict[str, Any], bad: str) -> None:
    page = day["client"].get(f"/fills?date={bad}")
    assert page.status_code == 400
    assert "date must be a date, YYYY-MM-DD" in page.get_data(as_text=True)
    answer = _api(app, day["token"], f"/api/fills?date={bad}")
    assert answer.status_code == 400
    assert "date must be YYYY-MM-DD" in answer.get_json()["error"]


def test_the_default_day_is_today_in_the_store(app: Flask, day: dict[str, Any]) -> None:
    answer = _api(app, day["token"], "/api/fills").get_json()
    today = dt.datetime.now(dt.UTC).astimezone(__import__("zoneinfo").ZoneInfo("America/New_York"))
    assert answer["date"] == today.date().isoformat()


@contextmanager
def _statements(app: Flask) -> Iterator[list[str]]:
    engine = app.extensions["medsync"].db.engine
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_list_costs_the_same_few_queries_whatever_its_size(
    app: Flask, day: dict[str, Any], session: Session
) -> None:
    with _statements(app) as few:
        assert _api(app, day["token"], f"/api/fills?date={DAY}").status_code == 200
    store = day["confirmed"].store
    for n in range(30):
        p = make_patient(session, store, f"X{n}", phone=f"+1202556{1000 + n}", anchor_date=DAY)
        make_checkin(session, p, status=CheckinStatus.CONFIRMED)
    session.commit()
    with _statements(app) as many:
        assert _api(app, day["token"], f"/api/fills?date={DAY}").status_code == 200
    assert len(many) == len(few)
    assert len(few) <= 14  # token, audit, the day's six reads, the store's today


def _post_state(day: dict[str, Any], who: str, state: str, note: str = "") -> Any:
    return day["client"].post(
        "/fills/state",
        {
            "date": DAY.isoformat(),
            "enrollment_id": day[who].enrollment.id,
            "state": state,
            "note": note,
        },
        page=PAGE,
    )


def _fill(session: Session, patient: Any) -> Fill:
    found = session.scalars(select(Fill).where(Fill.patient_id == patient.id)).one()
    session.refresh(found)
    return found


def test_a_fill_goes_through_its_states_each_change_audited(
    app: Flask, day: dict[str, Any], session: Session
) -> None:
    for state in ("prepared", "ready", "picked_up"):
        answer = _post_state(day, "confirmed", state)
        assert answer.status_code == 302
        assert f"#row-{day['confirmed'].enrollment.id}" in answer.headers["Location"]
    fill = _fill(session, day["confirmed"])
    assert fill.state is FillState.PICKED_UP
    assert fill.ready_at is not None and fill.closed_at is not None
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "fill_state").order_by(AuditEvent.id)
    ).all()
    assert [(e.detail["from"], e.detail["to"]) for e in events] == [
        ("to_prepare", "prepared"),
        ("prepared", "ready"),
        ("ready", "picked_up"),
    ]
    assert {e.target for e in events} == {f"fill:{fill.id}"}
    assert all(e.patient_id == day["confirmed"].id and e.actor == "user" for e in events)


def test_on_hold_needs_a_note_and_is_released_back(
    app: Flask, day: dict[str, Any], session: Session
) -> None:
    refused = _post_state(day, "changed", "on_hold")
    assert refused.status_code == 302
    page = day["client"].get(PAGE).get_data(as_text=True)
    assert "a note is required" in page
    assert session.scalars(select(Fill)).all() == []  # nothing changed
    _post_state(day, "changed", "on_hold", "waiting for the doctor about metformin")
    fill = _fill(session, day["changed"])
    assert fill.state is FillState.ON_HOLD
    assert fill.note == "waiting for the doctor about metformin"
    assert "waiting for the doctor about metformin" in day["client"].get(PAGE).get_data(
        as_text=True
    )
    _post_state(day, "changed", "to_prepare")
    assert _fill(session, day["changed"]).state is FillState.TO_PREPARE


def test_a_move_the_state_does_not_allow_is_refused_and_changes_nothing(
    app: Flask, day: dict[str, Any], session: Session
) -> None:
    _post_state(day, "confirmed", "ready")
    assert "cannot be marked ready" in day["client"].get(PAGE).get_data(as_text=True)
    assert session.scalars(select(Fill)).all() == []  # not even the row: nothing changed
    assert _post_state(day, "confirmed", "bogus").status_code == 400
    bad = day["client"].post(
        "/fills/state",
        {"date": DAY.isoformat(), "enrollment_id": "x", "state": "prepared"},
        page=PAGE,
    )
    assert bad.status_code == 400
    elsewhere = day["client"].post(
        "/fills/state",
        {
            "date": DAY.isoformat(),
            "enrollment_id": day["elsewhere"].enrollment.id,
            "state": "prepared",
        },
        page=PAGE,
    )
    assert elsewhere.status_code == 404
    no_csrf = day["client"].client.post(
        "/fills/state",
        data={
            "date": DAY.isoformat(),
            "enrollment_id": day["confirmed"].enrollment.id,
            "state": "prepared",
        },
    )
    assert no_csrf.status_code in (302, 400)
    assert session.scalars(select(Fill)).all() == []
    # Not on that day's list: Lee's fill is tomorrow.
    _post_state_other = day["client"].post(
        "/fills/state",
        {
            "date": DAY.isoformat(),
            "enrollment_id": day["tomorrow"].enrollment.id,
            "state": "prepared",
        },
        page=PAGE,
    )
    assert _post_state_other.status_code == 302
    assert session.scalars(select(Fill).where(Fill.patient_id == day["tomorrow"].id)).all() == []


def test_bulk_prepare_takes_the_confirmed_rows_with_nothing_blocking(
    app: Flask, day: dict[str, Any], session: Session
) -> None:
    assert "Mark 2 confirmed fills prepared" in day["client"].get(PAGE).get_data(as_text=True)
    answer = day["client"].post("/fills/prepare-confirmed", {"date": DAY.isoformat()}, page=PAGE)
    assert answer.status_code == 302
    states = {f.patient_id: f.state for f in session.scalars(select(Fill)).all()}
    # Confirmed Adams and Davis (whose as-needed item was cleared); Baker needs a renewal.
    assert states == {
        day["confirmed"].id: FillState.PREPARED,
        day["prn"].id: FillState.PREPARED,
    }
    audited = session.scalars(select(AuditEvent).where(AuditEvent.action == "fill_state")).all()
    assert len(audited) == 2


def test_the_api_changes_a_state_by_row_then_by_id(
    app: Flask, day: dict[str, Any], session: Session
) -> None:
    enrollment_id = day["confirmed"].enrollment.id
    first = _api(
        app,
        day["token"],
        "/api/fills/state",
        {"enrollment_id": enrollment_id, "date": DAY.isoformat(), "state": "prepared"},
    )
    assert first.status_code == 200, first.data
    row = first.get_json()
    assert row["state"] == "prepared" and isinstance(row["id"], int)
    assert _rows(app, day)["confirmed"]["id"] == row["id"]
    ready = _api(app, day["token"], f"/api/fills/{row['id']}/state", {"state": "ready"})
    assert ready.status_code == 200 and ready.get_json()["state"] == "ready"
    conflict = _api(app, day["token"], f"/api/fills/{row['id']}/state", {"state": "delivered"})
    assert conflict.status_code == 409
    assert "for pickup" in conflict.get_json()["error"]
    for body, status in [
        ({"state": "on_hold"}, 400),
        ({"state": "nope"}, 400),
        ({"state": 3}, 400),
        ({"state": "on_hold", "note": 5}, 400),
    ]:
        assert _api(app, day["token"], f"/api/fills/{row['id']}/state", body).status_code == status
    assert _api(app, day["token"], "/api/fills/999999/state", {"state": "ready"}).status_code == 404
    missing = _api(
        app, day["token"], "/api/fills/state", {"date": DAY.isoformat(), "state": "ready"}
    )
    assert missing.status_code == 400
    other = _api(
        app,
        day["token"],
        "/api/fills/state",
        {
            "enrollment_id": day["elsewhere"].enrollment.id,
            "date": DAY.isoformat(),
            "state": "prepared",
        },
    )
    assert other.status_code == 404
    assert _fill(session, day["confirmed"]).state is FillState.READY
    api_events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "fill_state", AuditEvent.actor == "api")
    ).all()
    assert len(api_events) == 2


def test_staff_set_delivery_and_a_delivery_fill_ends_delivered(
    app: Flask, day: dict[str, Any], session: Session
) -> None:
    _post_state(day, "confirmed", "prepared")
    answer = day["client"].post(
        "/fills/delivery",
        {
            "date": DAY.isoformat(),
            "enrollment_id": day["confirmed"].enrollment.id,
            "delivery": "delivery",
        },
        page=PAGE,
    )
    assert answer.status_code == 302
    session.refresh(day["confirmed"])
    assert day["confirmed"].delivery is Delivery.DELIVERY
    assert _fill(session, day["confirmed"]).delivery is Delivery.DELIVERY
    _post_state(day, "confirmed", "ready")
    _post_state(day, "confirmed", "picked_up")
    assert "mark it delivered" in day["client"].get(PAGE).get_data(as_text=True)
    _post_state(day, "confirmed", "delivered")
    assert _fill(session, day["confirmed"]).state is FillState.DELIVERED
    bad = day["client"].post(
        "/fills/delivery",
        {
            "date": DAY.isoformat(),
            "enrollment_id": day["confirmed"].enrollment.id,
            "delivery": "drone",
        },
        page=PAGE,
    )
    assert bad.status_code == 400


def test_the_csv_has_the_days_decisions(app: Flask, day: dict[str, Any]) -> None:
    _post_state(day, "changed", "on_hold", "=call the doctor")
    answer = day["client"].get(f"/fills.csv?date={DAY}")
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    assert "fills-2026-12-07.csv" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert list(rows[0]) == [
        "patient_id",
        "patient",
        "medicine",
        "action",
        "quantity",
        "state",
        "note",
    ]
    adams = [r for r in rows if r["patient"] == "Confirmed Adams"]
    assert {(r["medicine"], r["action"], r["quantity"]) for r in adams} == {
        ("Metformin 500 mg", "fill", ""),
        ("Lisinopril 10 mg", "short_fill", "20"),
        ("Insulin glargine pen", "not_due", ""),
    }
    clark = [r for r in rows if r["patient"] == "Changed Clark"]
    assert {r["state"] for r in clark} == {"on_hold"}
    assert {r["note"] for r in clark} == {"'=call the doctor"}  # never a spreadsheet formula
    davis = [r for r in rows if r["patient"] == "Prn Davis"]
    assert ("as needed: I need my inhaler", "prn_request") in {
        (r["medicine"], r["action"]) for r in davis
    }
