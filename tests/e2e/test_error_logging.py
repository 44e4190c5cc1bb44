"""A database error is logged without the values it was about: no phone number, no words.

Each test forces a real failing statement (a message row without its store, which NOT NULL
refuses) while a webhook, a page or the scheduler writes a patient's number and words, and then
reads everything logged at every level. Before, SQLAlchemy's "[parameters: ...]" carried them
on both databases, and PostgreSQL's DETAIL ("Failing row contains (...)") too.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from bot.transports.fake import FakeTransport
from store import messages, queue
from store.models import Checkin, QueueKind, Role
from tests.factories import make_checkin, make_patient, make_store
from tests.integration.scheduler_helpers import ClockedFake, tick
from tests.twilio_helpers import TwilioPoster
from tests.workspace_helpers import StaffClient, make_user

PATIENT = "+12025550143"
WORDS = "I stopped my metformin last Tuesday"
STAFF_TEXT = "Please call us about your warfarin"
# The number as it may be printed: E.164, without the country code, the local digits.
PRIVATE = (PATIENT, PATIENT[2:], "5550143", "metformin", "warfarin", "Ana", "Lopez")


@pytest.fixture
def checkin(session: Session) -> Checkin:
    store = make_store(session)
    checkin = make_checkin(session, make_patient(session, store, phone=PATIENT))
    session.commit()
    return checkin


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Everything logged, at every level (SQLAlchemy's statement log included)."""
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.fixture
def unhandled_errors_answer_500(app: Flask) -> None:
    """Let Flask handle (and log) an unhandled error as in production, not raise it here."""
    app.config["PROPAGATE_EXCEPTIONS"] = False


@pytest.fixture
def message_rows_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every message written loses its store on the way: NOT NULL refuses the real INSERT,
    with the row's phone numbers and words as its parameters."""
    record, record_exchange = messages.record, messages.record_exchange
    record_batch = messages.record_checkin_messages

    def without_store(values: dict[str, Any]) -> dict[str, Any]:
        return {**values, "store_id": None}

    monkeypatch.setattr(
        messages, "record", lambda session, **values: record(session, **without_store(values))
    )
    monkeypatch.setattr(  # the scheduler's batch of texts (scheduler/batch.py)
        messages,
        "record_checkin_messages",
        lambda session, rows, now: record_batch(session, [without_store(r) for r in rows], now),
    )
    monkeypatch.setattr(
        messages,
        "record_exchange",
        lambda session, *, inbound, replies, now=None: record_exchange(
            session, now=now, inbound=without_store(inbound), replies=replies
        ),
    )


def assert_nothing_private(caplog: pytest.LogCaptureFixture) -> None:
    text = caplog.text
    assert "IntegrityError" in text  # the error was logged, or this test proves nothing
    for private in PRIVATE:
        assert private not in text, f"{private!r} in the log"


@pytest.mark.usefixtures("checkin", "unhandled_errors_answer_500", "message_rows_fail")
def test_a_database_error_in_a_webhook_is_logged_without_the_values(
    twilio: TwilioPoster, logged: pytest.LogCaptureFixture
) -> None:
    response = twilio.sms(PATIENT, WORDS)
    assert response.status_code == 500
    assert any(r.levelno == logging.ERROR and r.exc_info for r in logged.records)
    assert_nothing_private(logged)


@pytest.mark.usefixtures("unhandled_errors_answer_500")
def test_a_database_error_on_a_page_is_logged_without_the_values(
    app: Flask,
    session: Session,
    checkin: Checkin,
    logged: pytest.LogCaptureFixture,
    message_rows_fail: None,
) -> None:
    patient = checkin.patient
    item = queue.add_item(
        session, kind=QueueKind.CONCERN, store_id=checkin.store_id, patient=patient, text="?"
    )
    make_user(session, "pharm@a.org", Role.PHARMACIST, checkin.store)
    session.commit()
    app.extensions["medsync"].transport = FakeTransport()
    pharmacist = StaffClient.signed_in(app, "pharm@a.org")
    response = pharmacist.post(f"/items/{item}/text", {"body": STAFF_TEXT}, page=f"/items/{item}")
    assert response.status_code == 500
    assert_nothing_private(logged)


def test_a_database_error_in_a_scheduler_pass_is_logged_without_the_values(
    app: Flask, checkin: Checkin, logged: pytest.LogCaptureFixture, message_rows_fail: None
) -> None:
    report = tick(app, ClockedFake(), dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC))
    assert report.errors == 1
    assert_nothing_private(logged)


def test_an_ordinary_exchange_logs_no_phone_or_words_at_any_level(
    checkin: Checkin, twilio: TwilioPoster, logged: pytest.LogCaptureFixture
) -> None:
    """The paths around the error ones: replies, an opt-out, a 400 (NUL) and a 403 (bad
    signature, logged as a WARNING) log nothing private at any level either."""
    assert twilio.sms(PATIENT, WORDS).status_code == 200
    assert twilio.sms(PATIENT, "STOP").status_code == 200
    bad = {"MessageSid": "SM1", "From": PATIENT + "\x00", "To": PATIENT, "Body": WORDS}
    assert twilio.post("/twilio/sms", bad).status_code == 400
    assert twilio.post("/twilio/sms", bad, signature="bad").status_code == 403
    assert logged.records
    for private in PRIVATE:
        assert private not in logged.text, f"{private!r} in the log"
