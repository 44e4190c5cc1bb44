"""A technician's fill-day morning in headless Chromium, on the real demo (SPEC 13): open
today's list, mark the confirmed rows prepared at once, hold one with a note, mark one ready,
and after the scheduler's pass read the patient's "ready" text in the phone simulator. Every
control of the list has a label.

The demo is loaded as of five days ago (mid-morning), so the patients it anchors five days
out are due today, with check-ins that ran through the real dialog code back then.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import renewals
from bot.access import Staff
from bot.transports.fake import FakeTransport
from scheduler.runner import run_once
from store.models import (
    AuditEvent,
    Fill,
    FillState,
    Patient,
    QueueItem,
    QueueKind,
    User,
    utcnow,
)
from tests.browser.real_demo import PHARMACIST, TECHNICIAN, Demo, seed_demo
from tests.browser.test_enrollment_browser import assert_labelled
from tests.browser.test_workspace_browser import UNLABELLED, sign_in

pytestmark = pytest.mark.browser

DAYS_AGO = 5  # the demo's patients anchored five days after it was loaded are due today


@pytest.fixture
def fake_transport(app: Flask) -> FakeTransport:
    """Keep the app's own console transport (what the demo runs on, and what the real tick
    builds for itself): the live server must not swap it for the fake one."""
    transport = app.extensions["medsync"].transport
    assert isinstance(transport, FakeTransport)  # ConsoleTransport is one
    return transport


def load_demo_days_ago(app: Flask, session: Session) -> tuple[Demo, dt.date]:
    """The real demo as loaded `DAYS_AGO` days ago at 11:00 in New York; today's date there."""
    zone = ZoneInfo("America/New_York")
    today = utcnow().astimezone(zone).date()
    loaded = dt.datetime.combine(today - dt.timedelta(days=DAYS_AGO), dt.time(11), tzinfo=zone)
    return seed_demo(app, session, loaded.astimezone(dt.UTC)), today


def approve_renewal(session: Session, patient: Patient) -> None:
    """Overnight the prescriber approved the patient's renewal, and the pharmacist recorded
    it (bot/renewals.py, the rules the renewals page uses): nothing blocks the fill now."""
    item = session.scalars(
        select(QueueItem).where(
            QueueItem.patient_id == patient.id, QueueItem.kind == QueueKind.RENEWAL_NEEDED
        )
    ).one()
    pharmacist = session.scalars(select(User).where(User.email == PHARMACIST)).one()
    result = renewals.record_answer(
        session,
        Staff.of(pharmacist),
        item,
        utcnow(),
        answer="approved",
        refills="5",
        note="Faxed back",
        actor="user",
    )
    assert result.ok, result.message
    session.commit()


def assert_every_control_labelled(page: Page) -> None:
    """Both label checks of the browser tests: every visible control, button and link has a
    name, and every field a `label for` or an aria-label."""
    assert_labelled(page)
    assert page.evaluate(UNLABELLED) == [], page.url


def fill_of(session: Session, patient: Patient, day: dt.date) -> Fill:
    session.expire_all()
    return session.scalars(
        select(Fill).where(Fill.patient_id == patient.id, Fill.anchor_date == day)
    ).one()


def test_a_technicians_morning_on_the_fill_day_list(
    app: Flask, page: Page, session: Session, live_server: str
) -> None:
    demo, today = load_demo_days_ago(app, session)
    maria, dave = demo.patients["D12"], demo.patients["D04"]
    assert maria.enrollment is not None and maria.enrollment.anchor_date == today
    approve_renewal(session, maria)

    sign_in(page, TECHNICIAN)
    page.get_by_role("link", name="Fill day").click()
    expect(page).to_have_url(re.compile(r"/fills$"))
    expect(page.locator("h1")).to_contain_text(today.strftime("%A %B %d, %Y"))
    assert_every_control_labelled(page)
    rows = page.locator("tr.fill-row")
    expect(rows).to_have_count(5)  # D04, D05, D11, D12, D15: every check-in outcome
    # What blocks a fill comes first: the held medication and health changes at the top,
    # Maria (confirmed, her renewal approved) last, ready to fill.
    expect(rows.first).to_contain_text("On hold")
    maria_row = page.locator(f"#row-{maria.enrollment.id}")
    dave_row = page.locator(f"#row-{dave.enrollment.id}")  # type: ignore[union-attr]
    expect(rows.last).to_have_id(f"row-{maria.enrollment.id}")
    expect(maria_row).to_contain_text("confirmed")
    expect(maria_row).to_contain_text("Metformin 500 mg")
    expect(dave_row).to_contain_text("Needs staff")
    expect(dave_row).to_contain_text("I need my inhaler")

    # Bulk: every confirmed row with nothing blocking.
    page.get_by_role("button", name="Mark 1 confirmed fill prepared").click()
    expect(page.locator(".flash.ok")).to_contain_text("Marked 1 confirmed fill prepared.")
    expect(maria_row.locator(".state")).to_have_text("Prepared")
    expect(page.get_by_role("button", name=re.compile("confirmed fill"))).to_have_count(0)

    # Hold Dave's fill with a note: Enter in the note holds (the row's first button).
    note = dave_row.get_by_label("Why on hold")
    note.fill("Pharmacist to talk about the missed evening doses first")
    note.press("Enter")
    expect(page.locator(".flash.ok")).to_contain_text("Dave Nguyen: Marked on hold.")
    expect(dave_row.locator(".state")).to_have_text("On hold")
    expect(dave_row.locator(".note")).to_have_text(
        "Pharmacist to talk about the missed evening doses first"
    )
    expect(dave_row.get_by_role("button", name="Release hold")).to_be_visible()

    # Maria's bag is on the shelf.
    maria_row.get_by_role("button", name="Mark ready").click()
    expect(page.locator(".flash.ok")).to_contain_text("Maria Rossi: Marked ready.")
    expect(maria_row.locator(".state")).to_have_text("Ready")
    expect(maria_row).to_contain_text("Patient will be told in their send window")
    expect(maria_row.get_by_role("button", name="Mark picked up")).to_be_visible()
    assert_every_control_labelled(page)

    assert fill_of(session, maria, today).state is FillState.READY
    held = fill_of(session, dave, today)
    assert held.state is FillState.ON_HOLD and held.note is not None
    moves = session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "fill_state").order_by(AuditEvent.id)
    ).all()
    assert [(m["from"], m["to"]) for m in moves] == [
        ("to_prepare", "prepared"),
        ("to_prepare", "on_hold"),
        ("prepared", "ready"),
    ]

    # The scheduler's pass (the real tick, console transport) inside today's send window.
    noon = dt.datetime.combine(today, dt.time(12), tzinfo=ZoneInfo("America/New_York"))
    report = run_once(app, noon.astimezone(dt.UTC), workers=1)
    assert report.ready_notices == 1, report.summary()
    assert fill_of(session, maria, today).ready_notice_at is not None

    page.reload()
    expect(maria_row).to_contain_text("Patient told")
    page.goto("/dev/phone")
    page.get_by_label("Patient").select_option(str(maria.id))
    ready = page.locator("#thread li").last
    expect(ready).to_contain_text("Your refills are ready for pickup.")
    expect(ready).not_to_contain_text("Metformin")  # no medicine names in a ready text

    # The held fill stays held: the pass told only the ready patient.
    assert fill_of(session, dave, today).state is FillState.ON_HOLD
    assert fill_of(session, dave, today).ready_notice_at is None


def test_the_fill_day_list_and_its_print_view_label_every_control(
    app: Flask, page: Page, session: Session
) -> None:
    demo, today = load_demo_days_ago(app, session)
    sign_in(page, TECHNICIAN)
    for day in (today, today + dt.timedelta(days=1), today + dt.timedelta(days=7)):
        page.goto(f"/fills?date={day.isoformat()}")
        expect(page.locator("h1")).to_contain_text(day.strftime("%B %d, %Y"))
        assert page.locator("input, select, button").count() > 0
        assert_every_control_labelled(page)
    page.goto(f"/fills/print?date={today.isoformat()}")
    expect(page.locator("h1")).to_contain_text("Pick list")
    expect(page.locator("tbody tr")).to_have_count(5)
    assert_every_control_labelled(page)
    assert demo.store.code == "main"
