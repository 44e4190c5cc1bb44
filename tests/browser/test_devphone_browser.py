"""The patient phone simulator in headless Chromium: a whole SMS check-in and a whole voice
check-in played through the real, signed webhooks, then found in the pharmacist's queue."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import outreach
from bot.transports.base import Sender
from bot.transports.fake import FakeTransport
from store.models import Channel, Purpose, QueueItem, Role
from tests.factories import make_checkin, make_patient, make_store
from tests.workspace_helpers import PASSWORD, make_user

pytestmark = pytest.mark.browser
NOW = dt.datetime.now(dt.UTC)


def started(session: Session, live_server: str, fake: FakeTransport, *, voice: bool = False) -> int:
    """A patient whose check-in has begun: first text sent, or a check-in call placed."""
    store = make_store(session)
    patient = make_patient(session, store, channel=Channel.VOICE if voice else Channel.SMS)
    checkin = make_checkin(session, patient)
    make_user(session, "pharm@main.org", Role.PHARMACIST, store)
    session.commit()
    kwargs = {
        "transport": fake,
        "urls": outreach.Urls(live_server),
        "defaults": outreach.Defaults("main", Sender(None)),
    }
    if voice:
        outreach.place_checkin_call(session, checkin, NOW, purpose=Purpose.FIRST, **kwargs)  # type: ignore[arg-type]
    else:
        outreach.send_checkin_sms(session, checkin, Purpose.FIRST, NOW, **kwargs)  # type: ignore[arg-type]
    return patient.id


def open_phone(page: Page, patient_id: int) -> None:
    page.goto("/dev/phone")
    page.get_by_label("Patient").select_option(str(patient_id))


def text(page: Page, words: str, expect_reply: str) -> None:
    page.get_by_label("Reply").fill(words)
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#thread li").last).to_contain_text(expect_reply)


def test_a_whole_sms_checkin_in_the_simulator_reaches_the_queue(
    page: Page, live_server: str, session: Session, fake_transport: FakeTransport
) -> None:
    patient_id = started(session, live_server, fake_transport)
    open_phone(page, patient_id)
    # The quick form: one question for every topic, answered in the patient's own words.
    expect(page.locator("#thread li").first).to_contain_text("Reply NO or tell us")
    text(page, "my doctor changed my metformin", "Anything else?")
    text(page, "no thanks", "pharmacist will look at this")
    page.goto("/login")
    page.get_by_label("Email").fill("pharm@main.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/queue$"))
    expect(page.locator("table.queue")).to_contain_text("my doctor changed my metformin")
    expect(page.locator("#active-count")).to_have_text("1")


def test_a_whole_voice_checkin_with_the_keypad(
    page: Page, app: Flask, live_server: str, session: Session, fake_transport: FakeTransport
) -> None:
    patient_id = started(session, live_server, fake_transport, voice=True)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    open_phone(page, patient_id)
    page.get_by_role("button", name="Call").click()
    spoken = page.locator("#spoken")
    expect(spoken).to_contain_text("Main Street Pharmacy")
    answer = page.get_by_label("Record your answer")
    expect(answer).to_be_hidden()  # only a <Record> shows it
    keypad = page.locator("#keypad")
    keypad.get_by_role("button", name="1", exact=True).click()  # yes, this is Ana
    expect(spoken).to_contain_text("If nothing has changed, press 1", timeout=15_000)
    keypad.get_by_role("button", name="2", exact=True).click()  # something is new: record it
    expect(answer).to_be_visible()
    answer.fill("I skipped my evening pills for a week")
    answer.press("Enter")
    expect(spoken).to_contain_text("anything else", ignore_case=True, timeout=15_000)
    keypad.get_by_role("button", name="1", exact=True).click()  # nothing else
    expect(spoken).to_contain_text("look at your answers", timeout=15_000)
    expect(page.locator("#call-state")).to_have_text("Call ended.")
    session.expire_all()
    item = session.scalars(select(QueueItem)).one()
    assert item.kind.value == "adherence"
    assert item.text == "I skipped my evening pills for a week"
    assert item.recording_url and "/dev/phone/recording/" in item.recording_url
    assert errors == []


@pytest.mark.parametrize(
    "mode",
    [
        {"MEDSYNC_TRANSPORT": "twilio", "TWILIO_ACCOUNT_SID": "AC" + "1" * 32},
        {"MEDSYNC_TRANSPORT": "twilio", "TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "MEDSYNC_DEMO": "1"},
        # The console transport is the default of any install without Twilio credentials.
        {"MEDSYNC_TRANSPORT": "console", "MEDSYNC_DEMO": "0"},
    ],
    ids=["twilio", "twilio-demo", "console-not-demo"],
)
def test_the_simulator_exists_only_in_demo_mode_with_the_console(
    migrated_url: str, mode: dict[str, str]
) -> None:
    from bot import create_app
    from tests.conftest import TEST_ENV

    app = create_app({**TEST_ENV, "DATABASE_URL": migrated_url, **mode})
    client = app.test_client()
    assert client.get("/dev/phone").status_code == 404
    assert client.get("/dev/phone/patients/1").status_code == 404
    assert client.get("/dev/phone/recording/x.wav").status_code == 404
    signed = client.post("/dev/phone/sign", json={"path": "/twilio/sms", "form": {"Body": "STOP"}})
    assert signed.status_code == 404 and b"signature" not in signed.data
    app.extensions["medsync"].db.dispose()


def test_the_simulator_is_served_in_demo_mode(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/dev/phone").status_code == 200
    assert client.post("/dev/phone/sign", json={"path": "/twilio/sms", "form": {}}).is_json


def test_the_simulator_plays_a_transfer_to_the_pharmacy_and_a_missed_one(
    page: Page,
    app: Flask,
    live_server: str,
    session: Session,
    fake_transport: FakeTransport,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import datetime as dt

    from store.models import Store

    monkeypatch.setattr(
        "bot.webhooks.voice.utcnow", lambda: dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)
    )
    patient_id = started(session, live_server, fake_transport, voice=True)
    for store in session.scalars(select(Store)):
        store.hours = "Mon-Fri 09:00-19:00"
    session.commit()
    open_phone(page, patient_id)
    page.get_by_role("button", name="Call").click()
    spoken = page.locator("#spoken")
    keypad = page.locator("#keypad")
    expect(spoken).to_contain_text("calling for")
    keypad.get_by_role("button", name="1", exact=True).click()
    expect(spoken).to_contain_text("press 0", timeout=15_000)
    keypad.get_by_role("button", name="0", exact=True).click()
    expect(page.locator("#dial")).to_be_visible(timeout=15_000)
    page.get_by_role("button", name="Nobody answers").click()
    expect(spoken).to_contain_text("no one could answer", timeout=15_000)
    expect(page.get_by_label("Record your answer")).to_be_visible()
