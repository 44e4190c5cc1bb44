"""Sixteen replies from one patient at once: processed one at a time, nothing lost or doubled."""

from __future__ import annotations

import datetime as dt
import threading

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import outreach
from bot.transports.base import Sender
from bot.transports.fake import FakeTransport
from store.models import Checkin, CheckinStatus, Direction, Message, Purpose, QueueItem
from tests.factories import make_checkin, make_patient, make_store
from tests.twilio_helpers import TwilioPoster

PATIENT = "+12025550143"
REPLIES = 16


def test_sixteen_concurrent_replies_lose_and_duplicate_nothing(
    app: Flask, session: Session
) -> None:
    checkin = make_checkin(session, make_patient(session, make_store(session)))
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
    barrier = threading.Barrier(REPLIES)
    statuses: list[int] = []

    def reply(n: int) -> None:
        poster = TwilioPoster(app)
        barrier.wait()
        # Words, not a bare "no": after the check-in ends, a plain acknowledgement is only kept
        # in the transcript (SPEC 6), and these late replies must each become an item.
        statuses.append(poster.sms(PATIENT, "no, nothing new").status_code)

    threads = [threading.Thread(target=reply, args=(n,)) for n in range(REPLIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert statuses == [200] * REPLIES
    session.expire_all()

    def count(direction: Direction) -> int:
        query = select(func.count()).select_from(Message).where(Message.direction == direction)
        return int(session.scalar(query) or 0)

    assert count(Direction.INBOUND) == REPLIES
    # The first "no" confirms the check-in (the quick form: one reply when nothing is new); the
    # other fifteen arrive after it: kept in the transcript, answered with nothing and raising
    # no item (a plain no after the end says nothing new, SPEC 6).
    assert count(Direction.OUTBOUND) == 1 + 1
    assert session.get(Checkin, checkin.id).status == CheckinStatus.CONFIRMED  # type: ignore[union-attr]
    assert session.scalars(select(QueueItem.kind)).all() == []
