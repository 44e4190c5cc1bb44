"""STOP from a phone two patients share (a household, SPEC 8 and 14): the number opts out, so
every patient on it does, their check-ins close and nothing more is sent; START brings them
all back. Patients of another store on the same number are not touched."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import outreach
from bot.transports.base import Sender
from store.models import Checkin, CheckinStatus, Message, Patient, Purpose, QueueItem, QueueKind
from tests.factories import make_checkin, make_patient, make_store
from tests.integration.scheduler_helpers import ClockedFake, ny, walk
from tests.twilio_helpers import TwilioPoster

SHARED = "+12025550143"


def test_stop_from_a_shared_phone_opts_out_everyone_on_it(
    app: Flask, session: Session, twilio: TwilioPoster
) -> None:
    store = make_store(session)
    other_store = make_store(session, "b", name="Beta Pharmacy", from_number="+12025550177")
    ana = make_patient(session, store, "P1", first_name="Ana", phone=SHARED)
    luis = make_patient(session, store, "P2", first_name="Luis", phone=SHARED)
    elsewhere = make_patient(session, other_store, "P1", first_name="Eva", phone=SHARED)
    checkins = [make_checkin(session, ana), make_checkin(session, luis)]
    session.commit()
    fake = ClockedFake()  # one transport throughout: its message SIDs are unique
    outreach.send_checkin_sms(
        session,
        checkins[0],
        Purpose.FIRST,
        dt.datetime(2026, 11, 30, 15, tzinfo=dt.UTC),
        transport=fake,
        urls=outreach.Urls("http://localhost"),
        defaults=outreach.Defaults("main", Sender(None, None)),
    )

    response = twilio.sms(SHARED, "STOP")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("<Message>") == 1  # one confirmation

    session.expire_all()
    assert session.get(Patient, ana.id).opted_out  # type: ignore[union-attr]
    assert session.get(Patient, luis.id).opted_out  # type: ignore[union-attr]
    assert session.get(Patient, luis.id).opted_out_via == "sms (shared phone)"  # type: ignore[union-attr]
    assert not session.get(Patient, elsewhere.id).opted_out  # type: ignore[union-attr]
    statuses = session.scalars(select(Checkin.status).order_by(Checkin.id)).all()
    assert statuses == [CheckinStatus.OPTED_OUT, CheckinStatus.OPTED_OUT]
    items = session.execute(
        select(QueueItem.patient_id, QueueItem.kind).order_by(QueueItem.id)
    ).all()
    assert [tuple(i) for i in items] == [
        (ana.id, QueueKind.OPTED_OUT),
        (luis.id, QueueKind.OPTED_OUT),
    ]

    # Nothing more to that number from this store, whoever it would be about.
    walk(app, fake, ny(2026, 12, 1, 9, 0), ny(2026, 12, 8, 9, 0), dt.timedelta(hours=6))
    texted = {c.to for c in fake.contacts}
    sent_from_main = session.scalars(
        select(Message).where(Message.store_id == store.id, Message.purpose == Purpose.FIRST)
    ).all()
    assert len(sent_from_main) == 1  # only the first text before the STOP
    assert texted <= {SHARED}  # the other store's patient may still be texted by that store

    twilio.sms(SHARED, "START")
    session.expire_all()
    assert not session.get(Patient, ana.id).opted_out  # type: ignore[union-attr]
    assert not session.get(Patient, luis.id).opted_out  # type: ignore[union-attr]
    open_items = session.scalars(
        select(QueueItem).where(QueueItem.status == "open", QueueItem.store_id == store.id)
    ).all()
    assert [(i.patient_id, i.kind, i.text) for i in open_items] == []
