"""A whole SMS check-in through the signed /twilio/sms webhook."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import outreach
from bot.transports.base import Sender, sender_for_store
from bot.transports.fake import FakeTransport
from store.models import (
    Checkin,
    CheckinForm,
    CheckinStatus,
    Direction,
    Message,
    Patient,
    Purpose,
    QueueItem,
)
from tests.factories import STORE_NUMBER, make_checkin, make_patient, make_store
from tests.twilio_helpers import TwilioPoster, sid

NOW = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)
PATIENT = "+12025550143"
DEFAULTS = outreach.Defaults(store_code="main", sender=Sender(None, None))
URLS = outreach.Urls("http://localhost")


def texts(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/xml"
    return [m.text or "" for m in ET.fromstring(response.data).iter("Message")]


@pytest.fixture
def checkin(session: Session) -> Checkin:
    # The full form: one question per topic (the quick form: tests/e2e/test_quick_checkin.py).
    store = make_store(session, checkin_form=CheckinForm.FULL)
    patient = make_patient(session, store)
    checkin = make_checkin(session, patient)
    session.commit()
    return checkin


@pytest.fixture
def started(session: Session, checkin: Checkin) -> FakeTransport:
    fake = FakeTransport()
    outcome = outreach.send_checkin_sms(
        session, checkin, Purpose.FIRST, NOW, transport=fake, urls=URLS, defaults=DEFAULTS
    )
    assert outcome.outcome.value == "sent"
    return fake


def items(session: Session) -> list[tuple[str, str | None]]:
    session.expire_all()
    return [
        (i.kind.value, i.text) for i in session.scalars(select(QueueItem).order_by(QueueItem.id))
    ]


def status(session: Session, checkin: Checkin) -> CheckinStatus:
    session.expire_all()
    return session.get(Checkin, checkin.id).status  # type: ignore[union-attr]


def test_the_first_text_is_recorded_then_sent(
    session: Session, checkin: Checkin, started: FakeTransport
) -> None:
    (sent,) = started.sent
    assert sent.to == PATIENT and sent.sender == sender_for_store(checkin.store, DEFAULTS.sender)
    assert sent.status_callback == "http://localhost/twilio/sms/status"
    assert "Main Street Pharmacy" in (sent.body or "") and "STOP" in (sent.body or "")
    message = session.scalars(select(Message)).one()
    assert (message.direction, message.purpose, message.body) == (
        Direction.OUTBOUND,
        Purpose.FIRST,
        sent.body,
    )
    assert message.twilio_sid == sent.sid and message.status == "queued"
    assert status(session, checkin) == CheckinStatus.IN_PROGRESS


def test_all_no_confirms_with_no_items(
    session: Session, checkin: Checkin, started: FakeTransport, twilio: TwilioPoster
) -> None:
    for answer in ("no", "No.", "nope"):
        (question,) = texts(twilio.sms(PATIENT, answer))
        assert "YES or NO" in question
    (last_question,) = texts(twilio.sms(PATIENT, "2"))
    assert "Anything else for the pharmacist?" in last_question
    (closing,) = texts(twilio.sms(PATIENT, "no thanks"))
    assert "We'll have your refills for Mon Dec 7" in closing
    assert items(session) == []
    assert status(session, checkin) == CheckinStatus.CONFIRMED
    transcript = session.scalars(select(Message).order_by(Message.id)).all()
    assert [m.direction.value for m in transcript] == ["outbound"] + ["inbound", "outbound"] * 5


def test_each_yes_raises_one_item_with_the_patients_words(
    session: Session, checkin: Checkin, started: FakeTransport, twilio: TwilioPoster
) -> None:
    (adherence,) = texts(twilio.sms(PATIENT, "yes my doctor changed my metformin"))
    assert "missed doses" in adherence  # the details came with the yes: not asked again
    (details,) = texts(twilio.sms(PATIENT, "yes"))
    assert "What happened?" in details
    texts(twilio.sms(PATIENT, "I missed a few doses last week"))
    texts(twilio.sms(PATIENT, "no"))
    texts(twilio.sms(PATIENT, "Yes"))
    texts(twilio.sms(PATIENT, "I was in the ER on Sunday"))
    (closing,) = texts(twilio.sms(PATIENT, "no"))
    assert "A pharmacist will look at this" in closing
    assert items(session) == [
        ("med_change", "yes my doctor changed my metformin"),
        ("adherence", "I missed a few doses last week"),
        ("health_change", "I was in the ER on Sunday"),
    ]
    session.expire_all()
    priorities = session.scalars(select(QueueItem.priority).order_by(QueueItem.id)).all()
    assert priorities == [2, 2, 1]
    assert status(session, checkin) == CheckinStatus.FLAGGED


def test_gibberish_twice_goes_to_a_human(
    session: Session, checkin: Checkin, started: FakeTransport, twilio: TwilioPoster
) -> None:
    (reask,) = texts(twilio.sms(PATIENT, "purple"))
    assert "Sorry, I didn't understand" in reask
    (goodbye,) = texts(twilio.sms(PATIENT, "monkey"))
    assert "A pharmacist will call you" in goodbye
    assert items(session) == [("needs_human", "purple\nmonkey")]
    assert status(session, checkin) == CheckinStatus.FLAGGED


def test_call_me_raises_a_callback_request(
    session: Session, checkin: Checkin, started: FakeTransport, twilio: TwilioPoster
) -> None:
    texts(twilio.sms(PATIENT, "call me please"))
    assert items(session) == [("callback_request", "call me please")]


def test_the_same_message_sid_twice_gives_one_transition_and_one_reply(
    session: Session, checkin: Checkin, started: FakeTransport, twilio: TwilioPoster
) -> None:
    message_sid = sid("SM")
    first = texts(twilio.sms(PATIENT, "no", message_sid=message_sid))
    again = texts(twilio.sms(PATIENT, "no", message_sid=message_sid))
    assert len(first) == 1 and again == []
    inbound = session.scalar(
        select(func.count()).select_from(Message).where(Message.direction == Direction.INBOUND)
    )
    assert inbound == 1
    session.expire_all()
    conversation_node = session.scalars(select(Patient)).one()
    assert conversation_node is not None
    (question,) = texts(twilio.sms(PATIENT, "no"))
    assert "as-needed" in question  # third question: the duplicate did not advance twice


def test_stop_opts_out_with_one_confirmation_and_nothing_after(
    session: Session, checkin: Checkin, started: FakeTransport, twilio: TwilioPoster
) -> None:
    (confirmation,) = texts(twilio.sms(PATIENT, "STOP"))
    assert "unsubscribed" in confirmation
    assert texts(twilio.sms(PATIENT, "stop")) == []
    assert texts(twilio.sms(PATIENT, "hello? I still need my inhaler")) == []
    session.expire_all()
    patient = session.scalars(select(Patient)).one()
    assert patient.opted_out and patient.opted_out_via == "sms"
    assert status(session, checkin) == CheckinStatus.OPTED_OUT
    assert items(session) == [("opted_out", "STOP"), ("concern", "hello? I still need my inhaler")]
    (welcome,) = texts(twilio.sms(PATIENT, "START"))
    assert "Reply HELP" in welcome
    session.expire_all()
    assert not session.scalars(select(Patient)).one().opted_out


def test_an_unknown_number_gets_a_polite_reply_and_is_kept_for_staff(
    session: Session, checkin: Checkin, twilio: TwilioPoster
) -> None:
    (reply,) = texts(twilio.sms("+12125550111", "is my prescription ready?"))
    assert "Main Street Pharmacy" in reply and "(202) 555-0199" in reply
    assert "Ana" not in reply and "Lopez" not in reply
    assert items(session) == [("concern", "is my prescription ready?")]


def test_a_reply_with_no_checkin_open_becomes_a_concern(
    session: Session, checkin: Checkin, twilio: TwilioPoster
) -> None:
    (ack,) = texts(twilio.sms(PATIENT, "can you refill my lisinopril early"))
    assert "pharmacist" in ack
    assert items(session) == [("concern", "can you refill my lisinopril early")]


@pytest.mark.parametrize(
    ("form", "signature"),
    [
        ({"MessageSid": "SMx", "From": PATIENT, "To": STORE_NUMBER, "Body": "no"}, ""),
        ({"MessageSid": "SMx", "From": PATIENT, "To": STORE_NUMBER, "Body": "no"}, "bad="),
    ],
)
def test_a_missing_or_wrong_signature_is_refused_and_changes_nothing(
    session: Session, checkin: Checkin, twilio: TwilioPoster, form: dict[str, str], signature: str
) -> None:
    response = twilio.post("/twilio/sms", form, signature=signature)
    assert response.status_code == 403
    assert session.scalar(select(func.count()).select_from(Message)) == 0


def test_an_altered_form_is_refused(
    session: Session, checkin: Checkin, twilio: TwilioPoster
) -> None:
    form = {"MessageSid": "SMx", "From": PATIENT, "To": STORE_NUMBER, "Body": "no"}
    signature = twilio.signature(twilio.base + "/twilio/sms", form)
    response = twilio.post("/twilio/sms", {**form, "Body": "yes"}, signature=signature)
    assert response.status_code == 403
    assert session.scalar(select(func.count()).select_from(Message)) == 0


def test_logs_at_info_carry_no_phone_number_or_words(
    session: Session,
    checkin: Checkin,
    twilio: TwilioPoster,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    caplog.set_level(logging.INFO)
    fake = FakeTransport()
    outreach.send_checkin_sms(
        session, checkin, Purpose.FIRST, NOW, transport=fake, urls=URLS, defaults=DEFAULTS
    )
    for words in ("yes my doctor doubled my metformin", "no", "STOP"):
        texts(twilio.sms(PATIENT, words))
    twilio.post(
        "/twilio/sms", {"MessageSid": "SMx", "From": PATIENT, "To": STORE_NUMBER}, signature="bad"
    )
    logged = caplog.text
    assert caplog.records  # something was logged, or this test proves nothing
    for private in (PATIENT, PATIENT[2:], "5550143", "metformin", "Refill check", "Ana"):
        assert private not in logged
