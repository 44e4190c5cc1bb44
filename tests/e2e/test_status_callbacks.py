"""Status callbacks (SPEC 9): never backwards, ordered calls, opt-outs and invalid numbers."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import outreach
from bot.transports.base import Outcome, Sender
from bot.transports.fake import FakeTransport
from store.models import Checkin, CheckinStatus, Message, Patient, Purpose, QueueItem
from tests.factories import make_checkin, make_patient, make_store
from tests.twilio_helpers import TwilioPoster

NOW = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)
DEFAULTS = outreach.Defaults(store_code="main", sender=Sender(None, None))
URLS = outreach.Urls("http://localhost")
PATIENT = "+12025550143"


@pytest.fixture
def checkin(session: Session) -> Checkin:
    checkin = make_checkin(session, make_patient(session, make_store(session)))
    session.commit()
    return checkin


def send(session: Session, checkin: Checkin, fake: FakeTransport) -> Message:
    outreach.send_checkin_sms(
        session, checkin, Purpose.FIRST, NOW, transport=fake, urls=URLS, defaults=DEFAULTS
    )
    return session.scalars(select(Message)).one()


def kinds(session: Session) -> list[str]:
    session.expire_all()
    return [i.kind.value for i in session.scalars(select(QueueItem).order_by(QueueItem.id))]


ORDER = ("queued", "sending", "sent", "delivered")


@pytest.mark.parametrize("statuses", list(itertools.permutations(ORDER)))
def test_shuffled_message_statuses_end_delivered(
    session: Session, checkin: Checkin, twilio: TwilioPoster, statuses: tuple[str, ...]
) -> None:
    message = send(session, checkin, FakeTransport())
    for status in statuses:
        assert twilio.sms_status(message.twilio_sid or "", status).status_code == 204
    session.expire_all()
    assert session.get(Message, message.id).status == "delivered"  # type: ignore[union-attr]


def test_a_repeated_status_changes_nothing(
    session: Session, checkin: Checkin, twilio: TwilioPoster
) -> None:
    message = send(session, checkin, FakeTransport())
    twilio.sms_status(message.twilio_sid or "", "undelivered", 30003)
    twilio.sms_status(message.twilio_sid or "", "sent")
    session.expire_all()
    stored = session.get(Message, message.id)
    assert stored is not None and (stored.status, stored.error_code) == ("undelivered", 30003)


def test_shuffled_call_events_follow_the_sequence_number(
    session: Session, checkin: Checkin, twilio: TwilioPoster
) -> None:
    fake = FakeTransport()
    outreach.place_checkin_call(session, checkin, NOW, transport=fake, urls=URLS, defaults=DEFAULTS)
    call_sid = fake.sent[0].sid
    events = [("initiated", 0), ("ringing", 1), ("in-progress", 2), ("completed", 3)]
    for status, sequence in [events[2], events[3], events[0], events[1]]:
        form = twilio.call_form(call_sid, PATIENT, CallStatus=status, SequenceNumber=str(sequence))
        assert twilio.post("/twilio/voice/status", form).status_code == 204
    session.expire_all()
    call = session.scalars(select(Message)).one()
    assert (call.status, call.sequence_number) == ("completed", 3)


def assert_opted_out(session: Session, checkin: Checkin) -> None:
    session.expire_all()
    patient = session.scalars(select(Patient)).one()
    assert patient.opted_out and patient.opted_out_via == "twilio_21610"
    assert session.get(Checkin, checkin.id).status == CheckinStatus.OPTED_OUT  # type: ignore[union-attr]
    assert kinds(session) == ["opted_out"]


def test_21610_from_a_send_opts_the_patient_out(session: Session, checkin: Checkin) -> None:
    fake = FakeTransport()
    fake.fail_next(Outcome.OPTED_OUT, code=21610)
    message = send(session, checkin, fake)
    assert (message.status, message.error_code) == ("failed", 21610)
    assert_opted_out(session, checkin)


def test_21610_from_a_status_callback_opts_the_patient_out(
    session: Session, checkin: Checkin, twilio: TwilioPoster
) -> None:
    message = send(session, checkin, FakeTransport())
    twilio.sms_status(message.twilio_sid or "", "failed", 21610)
    twilio.sms_status(message.twilio_sid or "", "failed", 21610)  # delivered twice: one item
    assert_opted_out(session, checkin)


@pytest.mark.parametrize("code", [21211, 21614])
def test_an_invalid_number_raises_one_item(
    session: Session, checkin: Checkin, twilio: TwilioPoster, code: int
) -> None:
    fake = FakeTransport()
    fake.fail_next(Outcome.INVALID_NUMBER, code=code)
    message = send(session, checkin, fake)
    twilio.sms_status(message.twilio_sid or "SMnone", "failed", code)
    assert kinds(session) == ["invalid_number"]
    session.expire_all()
    assert not session.scalars(select(Patient)).one().opted_out


def test_an_unknown_outcome_is_recorded_and_not_retried(session: Session, checkin: Checkin) -> None:
    fake = FakeTransport()
    fake.fail_next(Outcome.UNKNOWN)
    message = send(session, checkin, fake)
    assert message.status == "unknown" and len(fake.sent) == 1
