"""The batch boundaries of a pass (scheduler/batch.py): what happens between a batch's record
commit and its sends, how many texts are handed over ahead of the network, and two check-ins
of one patient in one batch."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from flask import Flask
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from bot.transports.base import SendResult
from scheduler.jobs import run_pass
from store import checkins
from store.models import Channel, Checkin, CheckinStatus, Direction, Message, Purpose
from tests.factories import make_patient, make_store
from tests.integration.scheduler_helpers import DEFAULTS, URLS, ClockedFake, fresh, ny, tick
from tests.twilio_helpers import TwilioPoster

ANCHOR = dt.date(2026, 12, 14)
ANN, BOB = "+12025550161", "+12025550162"


HANDED_OVER = (Message.status == "pending", Message.twilio_sid.is_(None))
RECORDED = (Message.direction == Direction.OUTBOUND, Message.purpose == Purpose.FIRST)


class Counting(ClockedFake):
    """Twilio taking 30 ms a text. At the end of each send it notes how many messages match
    `where` (counted in a session of its own) less the texts it has answered: how far the
    pass has gone ahead of Twilio's answers."""

    def __init__(self, app: Flask, where: tuple[ColumnElement[bool], ...]) -> None:
        super().__init__()
        self.app = app
        self.where = where
        self.lock = threading.Lock()
        self.answered = 0
        self.ahead: list[int] = []

    def send_sms(self, **kwargs) -> SendResult:  # type: ignore[no-untyped-def,override]
        time.sleep(0.03)
        with fresh(self.app) as check:
            count = check.scalar(select(func.count()).where(*self.where))
        with self.lock:
            self.ahead.append(count - self.answered)
            self.answered += 1
        return super().send_sms(**kwargs)


def _first_texts(
    app: Flask, session: Session, patients: int, fake: Counting, **options: int
) -> None:
    store = make_store(session)
    for n in range(patients):
        make_patient(session, store, f"P{n}", phone=f"+1202555{n:04d}", anchor_date=ANCHOR)
    session.commit()
    fake.now = ny(2026, 12, 7, 9, 0)
    sessions = app.extensions["medsync"].db.sessions
    report = run_pass(sessions, fake.now, transport=fake, urls=URLS, defaults=DEFAULTS, **options)
    assert report.texts == patients
    assert len(fake.contacts) == len({c.to for c in fake.contacts}) == patients


def test_the_next_wave_is_handed_over_while_one_is_sent_and_no_more(
    app: Flask, session: Session
) -> None:
    fake = Counting(app, HANDED_OVER)
    _first_texts(app, session, 20, fake, workers=4)
    # While a wave of 4 is on the network the next 4 are already handed over (the commit
    # costs no time), and never a third wave: a crash strands at most 8.
    assert max(fake.ahead) == 8


def test_the_next_batch_is_decided_while_one_is_delivered_and_no_further(
    app: Flask, session: Session
) -> None:
    fake = Counting(app, RECORDED)
    _first_texts(app, session, 9, fake, batch_size=3, workers=1)
    # While a batch of 3 is sent, the next 3 are already recorded (their round trips overlap
    # the sends); never a third batch: a batch waits for the one before to be delivered.
    assert max(fake.ahead) == 6


def test_a_reply_committed_between_the_record_and_the_hand_over_stops_that_follow_up(
    app: Flask, session: Session, twilio: TwilioPoster, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store(session)
    make_patient(session, store, "P1", first_name="Ann", phone=ANN, anchor_date=ANCHOR)
    make_patient(session, store, "P2", first_name="Bob", phone=BOB, anchor_date=ANCHOR)
    session.commit()
    fake = ClockedFake()
    tick(app, fake, ny(2026, 12, 7, 9, 0))  # both first texts
    assert len(fake.to(ANN)) == len(fake.to(BOB)) == 1
    # A day later both reminders are due, in one batch, recorded in one commit; they are
    # handed over one at a time (--workers 1), Ann's first, and Bob answers meanwhile.
    hand_over = checkins.hand_over
    replied: list[int] = []

    def bob_answers_first(session: Session, message_ids: list[int]) -> list[int]:
        if not replied:
            replied.append(twilio.sms(BOB, "nope").status_code)
        return hand_over(session, message_ids)

    monkeypatch.setattr(checkins, "hand_over", bob_answers_first)
    fake.now = ny(2026, 12, 8, 9, 0)
    report = run_pass(
        app.extensions["medsync"].db.sessions,
        fake.now,
        transport=fake,
        urls=URLS,
        defaults=DEFAULTS,
        workers=1,
    )
    monkeypatch.undo()
    assert replied == [200]
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
