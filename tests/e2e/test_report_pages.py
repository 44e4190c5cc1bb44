"""The report's page, CSV, chart CSS and API on the real app (login, token, store scoping)."""

from __future__ import annotations

import csv
import io
import re

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import AuditEvent, Role
from tests.factories import make_store
from tests.report_history import EXPECTED, FILLS_CSV, seed_november
from tests.workspace_helpers import StaffClient, make_user

NOVEMBER = "from=2026-11-01&to=2026-11-30"


def _chain(session: Session) -> tuple[str, str]:
    main = make_store(session)
    seed_november(session, main)
    east = make_store(session, "east", from_number="+12025550111")
    seed_november(session, east)
    both = make_user(session, "owner@example.com", Role.ADMIN, main, east)
    one = make_user(session, "tech@example.com", Role.TECHNICIAN, east)
    session.commit()
    return both, one


def _api(app: Flask, token: str | None, query: str = NOVEMBER):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return app.test_client().get(f"/api/reports/program?{query}", headers=headers)


def test_the_api_answers_the_hand_worked_figures_per_store_and_in_total(
    app: Flask, session: Session
) -> None:
    both, one = _chain(session)
    body = _api(app, one).json
    assert body["stores"] == ["east"] and len(body["per_store"]) == 1
    for name, expected in EXPECTED.items():
        assert body[name] == expected, name
    chain = _api(app, both).json
    assert chain["stores"] == ["east", "main"] and chain["enrolled"] == 2 * EXPECTED["enrolled"]
    assert [s["enrolled"] for s in chain["per_store"]] == [6, 6]
    assert session.scalars(
        select(AuditEvent).where(AuditEvent.action == "view_program_report")
    ).all()


def test_the_api_refuses_bad_periods_and_missing_tokens(app: Flask, session: Session) -> None:
    both, _ = _chain(session)
    assert _api(app, None).status_code == 401
    for query in (
        "from=2026-13-01",
        "from=yesterday",
        "to=2026-11-31",
        "from=2026-12-01&to=2026-11-01",
        "from=2020-01-01&to=2026-01-01",
    ):
        response = _api(app, both, query)
        assert response.status_code == 400, query
        assert set(response.json) == {"error"}
    assert _api(app, both, "").status_code == 200  # the 30 days to today


def test_the_page_shows_the_figures_with_their_definitions_and_clean_charts(
    app: Flask, session: Session
) -> None:
    _chain(session)
    me = StaffClient.signed_in(app, "owner@example.com")
    page = me.get(f"/reports?{NOVEMBER}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<strong>12</strong> enrolled of a target of 200" in html
    assert "Continuation at 6 months" in html and "1 of 2" not in html  # chain: 2 of 4
    assert "2 of 4" in html and "By store" in html
    assert "handed to the phone network" in html  # the definition of contacted
    assert '<tr><th scope="row">Medication change</th><td>2</td></tr>' in html
    assert '<tr><th scope="row">Confirmed (nothing to flag)</th><td>2</td></tr>' in html
    svg = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(svg) == 1  # fills per day; PDC only after an upload
    assert "<script" not in html and "<style" not in html and " style=" not in svg[0]
    assert 'role="img"' in svg[0] and "aria-label=" in svg[0]
    assert 'href="/reports/charts.css"' in html
    headers = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in headers and "unsafe-inline" not in headers
    css = app.test_client().get("/reports/charts.css")
    assert css.mimetype == "text/css" and ".pygal-chart .color-0" in css.get_data(as_text=True)
    assert "#chart-" not in css.get_data(as_text=True)


def test_the_page_needs_a_login_and_refuses_a_bad_date(app: Flask, session: Session) -> None:
    _chain(session)
    assert app.test_client().get("/reports").status_code == 302
    me = StaffClient.signed_in(app, "tech@example.com")
    assert me.get("/reports?from=2026-02-30").status_code == 400
    assert me.get("/reports").status_code == 200


def test_the_csv_has_the_same_figures_per_store_and_all(app: Flask, session: Session) -> None:
    _chain(session)
    me = StaffClient.signed_in(app, "owner@example.com")
    response = me.get(f"/reports.csv?{NOVEMBER}")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = {
        (r["store"], r["measure"]): r["value"]
        for r in csv.DictReader(io.StringIO(response.get_data(as_text=True)))
    }
    assert rows["main", "enrolled"] == "6" and rows["all", "enrolled"] == "12"
    assert rows["east", "checkins.confirmed"] == "1" and rows["all", "items.med_change"] == "2"
    assert rows["main", "pqa.initial_sync_rate.rate"] == "0.3333"
    assert rows["all", "fills_per_day.2026-11-20.due"] == "4"
    solo = StaffClient.signed_in(app, "tech@example.com").get(f"/reports.csv?{NOVEMBER}")
    assert {line.split(",")[0] for line in solo.get_data(as_text=True).splitlines()[1:]} == {"east"}


def test_a_fills_upload_adds_pdc_by_star_class_with_a_chart(app: Flask, session: Session) -> None:
    _chain(session)
    me = StaffClient.signed_in(app, "tech@example.com")
    response = me.client.post(
        f"/reports?{NOVEMBER}",
        data={
            "csrf_token": me.csrf("/reports"),
            "fills": (io.BytesIO(FILLS_CSV.encode()), "fills.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    rows = re.findall(r'<tr><th scope="row" class="date">2026-11-30</th>(.*?)</tr>', html)
    cells = [re.findall(r"<td>(.*?)</td>", row) for row in rows]
    assert ["Statins", "1", "0", "0%", "66%"] in cells  # 120 of 183 days
    assert ["RAS antagonists", "1", "1", "100%", "100%"] in cells
    assert ["Diabetes (non-insulin)", "0", "0", "—", "—"] in cells
    assert "1 row rejected" in html
    assert len(re.findall(r"<svg", html)) == 2 and "<script" not in html
    broken = me.client.post(
        "/reports",
        data={"csrf_token": me.csrf("/reports"), "fills": (io.BytesIO(b"\xff\xfe"), "fills.csv")},
        content_type="multipart/form-data",
    )
    assert broken.status_code == 200 and "not valid UTF-8" in broken.get_data(as_text=True)
