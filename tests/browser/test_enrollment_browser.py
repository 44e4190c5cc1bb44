"""Enrolling a candidate in headless Chromium, keyboard only (SPEC 14): from the candidates
page through the enroll flow to the welcome text in the patient phone simulator; every
control of the pages on the way has a label."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from bot import outreach
from bot.transports.base import Sender
from bot.transports.fake import FakeTransport
from scheduler.jobs import run_pass
from store.models import ConsentMethod, Medicine, MedType, Patient, Role
from tests.factories import make_patient, make_store
from tests.workspace_helpers import PASSWORD, make_user

pytestmark = pytest.mark.browser

# Every visible control must have an accessible name: a <label for>, aria-label or
# aria-labelledby, or (buttons, links) its text.
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button, a')]
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => !((el.labels && el.labels.length) || el.getAttribute('aria-label')
                  || el.getAttribute('aria-labelledby') || el.textContent.trim()))
  .map(el => el.outerHTML.slice(0, 120))"""


def fills_file(tmp_path: Path, patient_id: str) -> Path:
    rows = ["patient_id,drug,ingredient,drug_class,fill_date,days_supply"]
    for drug, cls in (
        ("lisinopril", "RASA"),
        ("atorvastatin", "statin"),
        ("metformin", "diabetes"),
    ):
        rows += [f"{patient_id},{drug},,{cls},2026-01-0{n},30" for n in (1, 2)]
    path = tmp_path / "fills.csv"
    path.write_text("\n".join(rows), encoding="utf-8")
    return path


def press_on(page: Page, locator, key: str = "Enter") -> None:  # type: ignore[no-untyped-def]
    """Move the keyboard focus to a control and press a key on it (no mouse)."""
    locator.focus()
    page.keyboard.press(key)


def assert_labelled(page: Page) -> None:
    assert page.evaluate(UNLABELLED) == [], page.url


def test_a_candidate_is_enrolled_with_the_keyboard_and_welcomed_in_the_simulator(
    page: Page,
    app: Flask,
    live_server: str,
    session: Session,
    fake_transport: FakeTransport,
    tmp_path: Path,
) -> None:
    store = make_store(session)
    ben = make_patient(
        session,
        store,
        "C42",
        first_name="Ben",
        last_name="Okafor",
        birth_date=dt.date(1952, 4, 2),
        consent_date=None,
        anchor_date=dt.date.today() + dt.timedelta(days=25),
    )
    ben.medicines.append(Medicine(name="Lisinopril 10 mg", med_type=MedType.PRN, days_supply=30))
    for days_ago, medicine in zip((20, 10, 5), ben.medicines, strict=True):
        medicine.last_fill_date = dt.date.today() - dt.timedelta(days=days_ago)
    make_user(session, "pharm@main.org", Role.PHARMACIST, store)
    session.commit()

    page.goto("/login")
    page.get_by_label("Email").focus()
    page.keyboard.type("pharm@main.org")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/queue$"))

    press_on(page, page.get_by_role("link", name="Candidates"))
    expect(page).to_have_url(re.compile(r"/candidates$"))
    assert_labelled(page)
    page.get_by_label("Fills export (CSV)").set_input_files(str(fills_file(tmp_path, "C42")))
    for label, value in (("From", "01012026"), ("To", "12312026")):
        page.get_by_label(label).focus()
        page.keyboard.type(value)
    press_on(page, page.get_by_role("button", name="Find candidates"))
    row = page.locator("tr", has_text="Ben Okafor")
    expect(row).to_contain_text("1952-04-02")
    expect(row).to_contain_text("Not enrolled")
    assert_labelled(page)

    press_on(page, page.get_by_role("link", name="Enroll Ben Okafor"))
    expect(page).to_have_url(re.compile(rf"/patients/{ben.id}/enroll$"))
    assert_labelled(page)
    expect(page.locator("#suggestion")).to_contain_text("The planner suggests")
    press_on(page, page.get_by_label("Agrees to a check-in"), " ")
    page.get_by_label("How consent was given").focus()
    page.keyboard.type("Verbal")
    lisinopril = page.get_by_label("Lisinopril 10 mg")
    lisinopril.focus()
    page.keyboard.type("Maintenance")  # reconciled: it is taken every day, not as needed
    page.get_by_label("Anchor date (pickup day)").focus()
    anchor = dt.date.today() + dt.timedelta(days=9)
    page.keyboard.type(anchor.strftime("%m%d%Y"))
    press_on(page, page.get_by_role("button", name="Show short fills for this date"))
    expect(page.locator("#plan-caption")).to_contain_text(anchor.strftime("%A %B %d"))
    assert page.get_by_label("Agrees to a check-in").is_checked()  # kept through the preview
    page.get_by_label("What you told the patient about copays and costs").focus()
    page.keyboard.type("Copays unchanged.")
    press_on(page, page.get_by_label("Adherence packaging"), " ")
    press_on(page, page.get_by_role("button", name="Save enrollment"))

    expect(page).to_have_url(re.compile(rf"/patients/{ben.id}$"))
    expect(page.locator(".flash.ok")).to_contain_text("Ben Okafor enrolled")
    expect(page.locator("#enrollment")).to_contain_text("Adherence packaging")
    expect(page.locator("#enrollment")).to_contain_text("Goes out in the next send window")
    assert_labelled(page)
    session.expire_all()
    saved = session.get(Patient, ben.id)
    assert saved is not None and saved.consent_method is ConsentMethod.VERBAL
    assert {m.name: m.med_type for m in saved.medicines}["Lisinopril 10 mg"] is MedType.MAINTENANCE
    assert saved.enrollment is not None and saved.enrollment.anchor_date == anchor

    # The next scheduler pass inside the store's window sends the welcome.
    noon = dt.datetime.combine(dt.date.today(), dt.time(12), tzinfo=ZoneInfo(store.timezone))
    report = run_pass(
        app.extensions["medsync"].db.sessions,
        noon.astimezone(dt.UTC),
        transport=fake_transport,
        urls=outreach.Urls(live_server),
        defaults=outreach.Defaults("main", Sender(None)),
    )
    assert report.welcomes == 1

    page.goto("/dev/phone")
    page.get_by_label("Patient").focus()
    page.keyboard.type("Ben Okafor")
    page.keyboard.press("Enter")
    thread = page.locator("#thread li").first
    expect(thread).to_contain_text("Welcome to Med Sync")
    expect(thread).to_contain_text(f"next pickup {anchor.strftime('%a %b')} {anchor.day}")
    expect(thread).to_contain_text("STOP to end")


def test_the_roster_and_change_pages_label_every_control(
    page: Page, session: Session, live_server: str
) -> None:
    store = make_store(session)
    ana = make_patient(session, store, "P1", anchor_date=dt.date.today() + dt.timedelta(days=20))
    make_patient(session, store, "P2", first_name="Luis", needs_review=True)
    make_user(session, "pharm@main.org", Role.PHARMACIST, store)
    session.commit()
    page.goto("/login")
    page.get_by_label("Email").fill("pharm@main.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url(re.compile(r"/queue$"))
    for path in (
        "/patients",
        "/patients?review=1",
        f"/patients/{ana.id}",
        f"/patients/{ana.id}/enrollment",
        "/patients/new",
    ):
        page.goto(path)
        assert_labelled(page)
    # Keyboard only: pause the enrollment from the change page.
    page.goto(f"/patients/{ana.id}/enrollment")
    page.get_by_label("Paused until").focus()
    until = dt.date.today() + dt.timedelta(days=5)
    page.keyboard.type(until.strftime("%m%d%Y"))
    press_on(page, page.get_by_role("button", name="Pause", exact=True))
    expect(page.locator("#enrollment .status")).to_have_text("Paused")
