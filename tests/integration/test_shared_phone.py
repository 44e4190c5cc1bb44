"""A household on one phone (SPEC 14): check-ins one at a time, every text names whom it is
about, and each reply goes to the check-in that asked."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Checkin, CheckinStatus, QueueItem, QueueKind
from tests.factories import make_patient, make_store
from tests.integration.scheduler_helpers import ClockedFake, fresh, ny, tick
from tests.twilio_helpers import TwilioPoster

ANCHOR = dt.date(2026, 12, 14)
HOME = "+12025550150"


def test_a_household_is_checked_in_one_patient_at_a_time(
    app: Flask, session: Session, twilio: TwilioPoster
) -> None:
    store = make_store(session)
    ann = make_patient(session, store, "P1", first_name="Ann", phone=HOME, anchor_date=ANCHOR)
    bob = make_patient(session, store, "P2", first_name="Bob", phone=HOME, anchor_date=ANCHOR)
    session.commit()
    fake = ClockedFake()
    tick(app, fake, ny(2026, 12, 7, 9, 0))
    assert len(fake.to(HOME)) == 1  # one of them first
    first = fake.sent[-1].body or ""
    assert "Hi Ann!" in first
    tick(app, fake, ny(2026, 12, 7, 9, 30))
    assert len(fake.to(HOME)) == 1  # Bob waits while Ann's check-in is under way

    answer = twilio.sms(HOME, "nope")  # Ann's answer: hers
    assert answer.status_code == 200
    tick(app, fake, ny(2026, 12, 7, 10, 30))
    assert len(fake.to(HOME)) == 2
    assert "Hi Bob!" in (fake.sent[-1].body or "")

    reply = twilio.sms(HOME, "I stopped taking my metformin")  # Bob's: his
    assert b"Bob" in reply.data  # the answer says whom it is about
    twilio.sms(HOME, "no thanks")
    with fresh(app) as check:
        statuses = {c.patient_id: c.status for c in check.scalars(select(Checkin)).all()}
        assert statuses == {ann.id: CheckinStatus.CONFIRMED, bob.id: CheckinStatus.FLAGGED}
        items = check.scalars(select(QueueItem)).all()
        assert [(i.kind, i.patient_id) for i in items] == [(QueueKind.MED_CHANGE, bob.id)]
