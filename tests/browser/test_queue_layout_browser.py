"""The queue on a phone (390 px wide): every column header is on screen and nothing makes the
page scroll sideways, with long patient words, a claimer's email and two stores' codes."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from store import queue
from store.models import QueueKind, Role, User, utcnow
from tests.browser.real_demo import seed_demo
from tests.browser.test_workspace_browser import sign_in
from tests.factories import make_checkin, make_patient
from tests.workspace_helpers import make_user

pytestmark = pytest.mark.browser

PHONE_WIDTH = 390
# Each header's box, and how far the page and the table reach to the right.
MEASURE = """() => ({
  headers: [...document.querySelectorAll('table.queue thead th')].map((th) => {
    const box = th.getBoundingClientRect();
    return {text: th.textContent.trim(), left: box.left, right: box.right, width: box.width};
  }),
  page: document.documentElement.scrollWidth,
  table: document.querySelector('table.queue').getBoundingClientRect().right,
  cells: [...document.querySelectorAll('table.queue td')]
    .filter((td) => td.scrollWidth > td.clientWidth + 1).map((td) => td.textContent.trim()),
})"""


@pytest.mark.parametrize("width", [PHONE_WIDTH, 320])
def test_every_queue_column_fits_a_phone_screen(
    app: Flask, browser: Browser, live_server: str, session: Session, width: int
) -> None:
    demo = seed_demo(app, session)
    claimer = "a.very.long.name.for.a.pharmacist@mainstreetrx.example"
    make_user(session, claimer, Role.PHARMACIST, demo.store)
    session.flush()
    claimer_id = session.scalars(select(User.id).where(User.email == claimer)).one()
    for item_id in list(demo.items.values())[:2]:
        queue.claim(session, item_id, claimer_id, utcnow())
    someone = make_patient(
        session,
        demo.store,
        "LONG1",
        first_name="Maximiliana-Josefina",
        last_name="Vandenberghe-Oyelaran",
        phone="+12025550155",
    )
    queue.add_item(
        session,
        kind=QueueKind.HEALTH_CHANGE,
        store_id=demo.store.id,
        patient=someone,
        checkin=make_checkin(session, someone),
        text="hydrochlorothiazide-triamterene https://example.org/a-very-long-unbroken-link-xyz",
        priority=1,
    )
    session.commit()

    context = browser.new_context(base_url=live_server, viewport={"width": width, "height": 800})
    page = context.new_page()
    try:
        sign_in(page, claimer)
        expect(page.locator("table.queue")).to_be_visible()
        measured = page.evaluate(MEASURE)
        headers = measured["headers"]
        assert [h["text"] for h in headers] == [
            "Fill date",
            "Kind",
            "Patient",
            "What they said",
            "Status",
            "Claimed by",
        ]
        for header in headers:
            assert header["left"] >= 0 and header["right"] <= width, header
            assert header["width"] > 0, header
        assert measured["table"] <= width
        assert measured["page"] <= width, "the page scrolls sideways"
        assert measured["cells"] == []  # no cell's content spills out of it
        # Below the filters on a small screen: scrolled to, then every header is on screen.
        page.locator("table.queue thead").scroll_into_view_if_needed()
        expect(page.get_by_role("columnheader", name="Status")).to_be_in_viewport()
        expect(page.get_by_role("columnheader", name="Claimed by")).to_be_in_viewport()
    finally:
        context.close()
