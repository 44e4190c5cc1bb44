"""The program report in headless Chromium: its charts draw, styled by the page's own CSS
(nothing the CSP refuses), a fills upload adds the PDC chart, and every field has a label."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect
from sqlalchemy.orm import Session

from store.models import Role
from tests.browser.test_workspace_browser import UNLABELLED, sign_in
from tests.factories import make_store
from tests.report_history import FILLS_CSV, seed_november
from tests.workspace_helpers import make_user

pytestmark = pytest.mark.browser

NOVEMBER = "/reports?from=2026-11-01&to=2026-11-30"
BAR_FILL = """() => getComputedStyle(document.querySelector('#fills-chart .series rect')).fill"""


def test_the_report_draws_its_charts_under_the_csp(
    page: Page, session: Session, tmp_path: Path
) -> None:
    store = make_store(session)
    seed_november(session, store)
    make_user(session, "owner@example.com", Role.PHARMACIST, store)
    session.commit()
    refused: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused" in message.text:
            refused.append(message.text)

    page.on("console", watch)
    sign_in(page, "owner@example.com")
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Program report")).to_be_visible()
    page.goto(NOVEMBER)
    chart = page.locator("#fills-chart svg")
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box is not None and box["width"] > 600 and box["height"] > 150
    # pygal's colours come from /reports/charts.css: the first series' bars are its blue.
    assert page.evaluate(BAR_FILL) == "rgb(31, 95, 168)"
    expect(page.get_by_role("img", name="Fills per day")).to_be_visible()
    expect(page.get_by_text("6", exact=True).first).to_be_visible()
    assert page.evaluate(UNLABELLED) == []

    fills = tmp_path / "fills.csv"
    fills.write_text(FILLS_CSV)
    page.get_by_label("Fills export (CSV)").set_input_files(str(fills))
    page.get_by_role("button", name="Measure PDC").click()
    expect(page.locator("#pdc-chart svg")).to_be_visible()
    expect(page.get_by_role("cell", name="RAS antagonists")).to_be_visible()
    assert page.evaluate(UNLABELLED) == []
    assert page.locator("script").count() == 0
    assert refused == []
