"""A voice patient's check-in by the scheduler: first call, reminder call, then unreachable."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Channel, Checkin, CheckinStatus, Direction, Message, QueueItem, QueueKind
from tests.factories import make_patient, make_store
from tests.integration.scheduler_helpers import ClockedFake, fresh, ny, walk

ANCHOR = dt.date(2026, 12, 14)
PHONE = "+12025550143"


def test_a_voice_patients_second_call_is_recorded_as_the_reminder(
    app: Flask, session: Session
) -> None:
    store = make_store(session)
    make_patient(session, store, phone=PHONE, anchor_date=ANCHOR, channel=Channel.VOICE)
    session.commit()
    fake = ClockedFake()

    walk(app, fake, ny(2026, 12, 7, 8, 0), ny(2026, 12, 14, 20, 0), dt.timedelta(hours=1))

    # What the policy counts (calls on the patient's channel) is unchanged: two calls, a day
    # apart, then the unreachable item.
    assert [(c.kind, c.at) for c in fake.to(PHONE)] == [
        ("call", ny(2026, 12, 7, 9, 0)),
        ("call", ny(2026, 12, 8, 9, 0)),
    ]
    with fresh(app) as check:
        calls = check.scalars(
            select(Message.purpose)
            .where(Message.direction == Direction.OUTBOUND, Message.channel == Channel.VOICE)
            .order_by(Message.id)
        ).all()
        assert [str(p) for p in calls] == ["first", "reminder"]
        kinds = check.scalars(select(QueueItem.kind)).all()
        assert kinds == [QueueKind.UNREACHABLE]
        assert check.scalars(select(Checkin.status)).all() == [CheckinStatus.UNREACHABLE]
