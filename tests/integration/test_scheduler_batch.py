"""The batch boundaries of a pass (scheduler/batch.py): what happens between a batch's record
commit and its sends, and two check-ins of one patient in one batch."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.transports.base import SendResult
from scheduler.jobs import run_pass
from store.models import Channel, Checkin, CheckinStatus, Direction, Message, Purpose
from tests.factories import make_patient, make_store
from tests.integration.scheduler_helpers import DEFAULTS, URLS, ClockedFake, fresh, ny, tick
from tests.twilio_helpers import TwilioPoster

ANCHOR = dt.date(2026, 12, 14)
ANN, BOB = "+12025550161", "+12025550162"


class ReplyDuringSends(ClockedFake):
    """Twilio, and while it takes Ann's reminder Bob answers his first text (a real signed
    webhook, committed before Bob's reminder is handed over)."""

    def __init__(self, twilio: TwilioPoster) -> None:
        super().__init__()
        self.twilio = twilio
        self.armed = self.replied = False

    def send_sms(self, **kwargs) -> SendResult:  # type: ignore[no-untyped-def,override]
        if kwargs["to"] == ANN and self.armed and not self.replied:
            self.replied = True
            assert self.twilio.sms(BOB, "nope").status_code == 200
        return super().send_sms(**kwargs)


def test_a_reply_committed_between_the_record_and_the_send_stops_that_follow_up(
    app: Flask, session: Session, twilio: TwilioPoster
) -> None:
    store = make_store(session)
    make_patient(session, store, "P1", first_name="Ann", phone=ANN, anchor_date=ANCHOR)
    make_patient(session, store, "P2", first_name="Bob", phone=BOB, anchor_date=ANCHOR)
    session.commit()
    fake = ReplyDuringSends(twilio)
    tick(app, fake, ny(2026, 12, 7, 9, 0))  # both first texts
    assert len(fake.to(ANN)) == len(fake.to(BOB)) == 1
    # A day later both reminders are due, in one batch; Ann's goes out first (patient order,
    # one at a time: --workers 1), and Bob's answer arrives meanwhile.
    fake.now = ny(2026, 12, 8, 9, 0)
    fake.armed = True
    report = run_pass(
        app.extensions["medsync"].db.sessions,
        fake.now,
        transport=fake,
        urls=URLS,
        defaults=DEFAULTS,
        workers=1,
    )
    assert fake.replied
    assert len(fake.to(ANN)) == 2  # Ann's reminder
    assert len(fake.to(BOB)) == 1  # Bob answered: no reminder
    assert report.texts == 1
    with fresh(app) as check:
        reminders = check.execute(
            select(Message.to_number, Message.status).where(Message.purpose == Purpose.REMINDER)
        ).all()
        assert dict(reminders)[BOB] == "failed"  # recorded, never handed over, not sent
        bob = check.scalars(select(Checkin).where(Checkin.patient_id == 2)).one()
        assert bob.status == CheckinStatus.CONFIRMED
    walk_day = [ny(2026, 12, d, 10, 0) for d in (9, 10, 11)]
    for now in walk_day:
        tick(app, fake, now)
    assert len(fake.to(BOB)) == 1  # and nothing later either


def test_two_checkins_of_one_patient_in_one_batch_get_one_text(
    app: Flask, session: Session
) -> None:
    """A second open check-in of the same patient in the same batch is left for the next
    round, which sees the first one's text in the caps (one a local day)."""
    store = make_store(session)
    patient = make_patient(session, store, phone=ANN, anchor_date=ANCHOR)
    session.commit()
    now = ny(2026, 12, 7, 9, 0)
    assert patient.enrollment is not None
    for anchor in (ANCHOR, ANCHOR + dt.timedelta(days=1)):
        session.add(
            Checkin(
                enrollment_id=patient.enrollment.id,
                patient_id=patient.id,
                store_id=store.id,
                anchor_date=anchor,
                status=CheckinStatus.SCHEDULED,
                channel=Channel.SMS,
                next_attempt_at=now,
                attempts=0,
                created_at=now,
                updated_at=now,
            )
        )
    session.commit()
    fake = ClockedFake()
    report = tick(app, fake, now)
    assert len(fake.to(ANN)) == 1
    assert report.texts == 1 and report.looked_at == 2 and report.waiting == 1
    with fresh(app) as check:
        firsts = check.scalars(
            select(Message.id).where(Message.direction == Direction.OUTBOUND)
        ).all()
        assert len(firsts) == 1
    report = tick(app, fake, now + dt.timedelta(hours=1))
    assert len(fake.to(ANN)) == 1  # still one today
