"""STOP, then START (SPEC 8): the opt-out's item resolves itself (audited), and while the
patient is opted out plain acknowledgements raise no item but real words still do."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import items, outreach
from bot.transports.base import Sender
from bot.transports.fake import FakeTransport
from store.models import AuditEvent, Message, Patient, Purpose, QueueItem, QueueKind, QueueStatus
from tests.factories import make_checkin, make_patient, make_store
from tests.twilio_helpers import TwilioPoster

PATIENT = "+12025550143"


@pytest.fixture
def patient(session: Session) -> Patient:
    ana = make_patient(session, make_store(session), phone=PATIENT)
    checkin = make_checkin(session, ana)
    session.commit()
    outreach.send_checkin_sms(
        session,
        checkin,
        Purpose.FIRST,
        dt.datetime(2026, 11, 30, 15, tzinfo=dt.UTC),
        transport=FakeTransport(),
        urls=outreach.Urls("http://localhost"),
        defaults=outreach.Defaults("main", Sender(None, None)),
    )
    return ana


def queue_items(session: Session) -> list[tuple[str, str, str | None]]:
    session.expire_all()
    rows = session.scalars(select(QueueItem).order_by(QueueItem.id))
    return [(i.kind.value, i.status.value, i.text) for i in rows]


def test_stop_then_plain_words_then_start(
    session: Session, twilio: TwilioPoster, patient: Patient
) -> None:
    twilio.sms(PATIENT, "STOP")
    assert queue_items(session) == [("opted_out", "open", "STOP")]

    for plain in ("no", "ok", "yes", "thanks", "Thank you!"):
        assert twilio.sms(PATIENT, plain).status_code == 200
    twilio.sms(PATIENT, "can I still pick up Friday?")
    assert queue_items(session) == [
        ("opted_out", "open", "STOP"),
        ("concern", "open", "can I still pick up Friday?"),  # nothing they say is lost
    ]
    inbound = session.scalars(select(Message.body).where(Message.from_number == PATIENT)).all()
    assert list(inbound) == ["STOP", "no", "ok", "yes", "thanks", "Thank you!", inbound[-1]]

    twilio.sms(PATIENT, "START")
    session.expire_all()
    assert not session.get(Patient, patient.id).opted_out  # type: ignore[union-attr]
    opted_out = session.scalars(
        select(QueueItem).where(QueueItem.kind == QueueKind.OPTED_OUT)
    ).one()
    assert (opted_out.status, opted_out.outcome) == (QueueStatus.RESOLVED, items.RESUBSCRIBED)
    assert opted_out.resolved_at is not None and opted_out.resolved_by_id is None
    concern = session.scalars(select(QueueItem).where(QueueItem.kind == QueueKind.CONCERN)).one()
    assert concern.status is QueueStatus.OPEN  # a question is still for the pharmacist
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "resolve_item")).one()
    assert (audit.actor, audit.target, audit.detail, audit.patient_id) == (
        "twilio",
        f"item:{opted_out.id}",
        {"outcome": "resubscribed"},
        patient.id,
    )


def test_start_resolves_the_item_of_an_opt_out_twilio_reported(
    session: Session, twilio: TwilioPoster, patient: Patient
) -> None:
    sent = session.scalars(select(Message).where(Message.purpose == Purpose.FIRST)).one()
    twilio.sms_status(sent.twilio_sid or "", "failed", 21610)
    assert queue_items(session)[0][:2] == ("opted_out", "open")
    twilio.sms(PATIENT, "START")
    twilio.sms(PATIENT, "START")  # again: nothing more to resolve, nothing audited twice
    assert queue_items(session)[0][:2] == ("opted_out", "resolved")
    session.expire_all()
    audits = session.scalars(select(AuditEvent.actor).where(AuditEvent.action == "resolve_item"))
    assert list(audits) == ["twilio"]
