"""Ready fills through the real scheduler pass (SPEC 13): the ready notice inside the window
and the caps (and its wait outside them), once; one pickup reminder after the store's pickup
days; then one not_picked_up item. Time travels by running passes at later clocks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import fills
from bot.access import Staff
from store import fills as fill_store
from store.models import (
    Channel,
    CheckinStatus,
    Delivery,
    Direction,
    Fill,
    FillState,
    Language,
    Message,
    Purpose,
    QueueItem,
    QueueKind,
    Role,
    User,
)
from tests.factories import make_checkin, make_patient, make_store
from tests.integration.scheduler_helpers import ClockedFake, ny, tick, walk
from tests.workspace_helpers import make_user

ANCHOR = dt.date(2026, 12, 7)


def _patient(session: Session, **overrides: Any) -> Any:
    store = make_store(session)
    patient = make_patient(session, store, anchor_date=ANCHOR, **overrides)
    make_checkin(session, patient, status=CheckinStatus.CONFIRMED)
    assert patient.enrollment is not None
    patient.enrollment.checkin_anchor_date = ANCHOR
    make_user(session, "tech@main.org", Role.TECHNICIAN, store)
    session.commit()
    return patient


def _mark(app: Flask, session: Session, patient: Any, *states: str, at: dt.datetime) -> None:
    """Staff move the fill through `states` at `at`, by the use case the page and API call."""
    user = session.scalars(select(User)).one()
    with app.app_context(), app.extensions["medsync"].db.sessions() as work:
        staff = Staff.of(work.get(User, user.id))  # type: ignore[arg-type]
        enrollment = fill_store.get_enrollment(work, staff.store_ids, patient.enrollment.id)
        assert enrollment is not None
        for state in states:
            result = fills.change_state(
                work, staff, enrollment, ANCHOR, state, None, at, actor="user"
            )
            assert result.ok, result.message
        work.commit()


def _sent(session: Session, patient_id: int) -> list[tuple[str, str, str]]:
    session.expire_all()
    rows = session.execute(
        select(Message.purpose, Message.channel, Message.body)
        .where(Message.patient_id == patient_id, Message.direction == Direction.OUTBOUND)
        .order_by(Message.id)
    )
    return [(str(p), str(c), b or "") for p, c, b in rows]


def test_the_ready_text_waits_for_the_window_and_goes_once(app: Flask, session: Session) -> None:
    patient = _patient(session)
    _mark(app, session, patient, "prepared", "ready", at=ny(2026, 12, 7, 7, 30))
    fake = ClockedFake()
    tick(app, fake, ny(2026, 12, 7, 8, 0))
    assert fake.contacts == []  # before 09:00: queued, not lost
    report = tick(app, fake, ny(2026, 12, 7, 9, 0))
    assert report.ready_notices == 1
    walk(app, fake, ny(2026, 12, 7, 10, 0), ny(2026, 12, 8, 10, 0), dt.timedelta(hours=3))
    sent = _sent(session, patient.id)
    assert sent == [
        (
            "ready",
            "sms",
            "Main Street Pharmacy: Hi Ana! Your refills are ready for pickup. Questions? Call"
            " (202) 555-0199. Reply STOP to opt out.",
        )
    ]
    assert "Metformin" not in sent[0][2]  # no medicine named (phi_ok is off)
    fill = session.scalars(select(Fill)).one()
    assert fill.ready_notice_at == ny(2026, 12, 7, 9, 0)
    # Held, then made ready again: no second text.
    user = session.scalars(select(User)).one()
    with app.app_context(), app.extensions["medsync"].db.sessions() as work:
        staff = Staff.of(work.get(User, user.id))  # type: ignore[arg-type]
        enrollment = fill_store.get_enrollment(work, staff.store_ids, patient.enrollment.id)
        assert enrollment is not None
        at = ny(2026, 12, 8, 11, 0)
        assert fills.change_state(
            work, staff, enrollment, ANCHOR, "on_hold", "bag torn", at, actor="user"
        ).ok
        assert fills.change_state(
            work, staff, enrollment, ANCHOR, "prepared", None, at, actor="user"
        ).ok
        assert fills.change_state(
            work, staff, enrollment, ANCHOR, "ready", None, at, actor="user"
        ).ok
        work.commit()
    walk(app, fake, ny(2026, 12, 8, 11, 0), ny(2026, 12, 9, 11, 0), dt.timedelta(hours=4))
    assert len(_sent(session, patient.id)) == 1


def test_the_ready_text_counts_against_the_caps(app: Flask, session: Session) -> None:
    patient = _patient(session)
    fake = ClockedFake()
    # A check-in text went out this morning: one outreach a local day.
    session.add(
        Message(
            store_id=patient.store_id,
            patient_id=patient.id,
            direction=Direction.OUTBOUND,
            channel=Channel.SMS,
            purpose=Purpose.REMINDER,
            from_number="+12025550100",
            to_number=patient.phone,
            body="reminder",
            status="delivered",
            twilio_sid="SMreminder",
            created_at=ny(2026, 12, 7, 9, 0),
        )
    )
    session.commit()
    _mark(app, session, patient, "prepared", "ready", at=ny(2026, 12, 7, 10, 0))
    walk(app, fake, ny(2026, 12, 7, 10, 0), ny(2026, 12, 7, 18, 0), dt.timedelta(hours=2))
    assert fake.contacts == []
    tick(app, fake, ny(2026, 12, 8, 9, 0))
    assert [p for p, _, _ in _sent(session, patient.id)] == ["reminder", "ready"]


def test_a_voice_patient_gets_a_call_and_a_spanish_speaker_spanish(
    app: Flask, session: Session
) -> None:
    patient = _patient(session, channel=Channel.VOICE, language=Language.ES)
    _mark(app, session, patient, "prepared", "ready", at=ny(2026, 12, 7, 9, 0))
    fake = ClockedFake()
    tick(app, fake, ny(2026, 12, 7, 9, 30))
    assert [c.kind for c in fake.contacts] == ["call"]
    [(purpose, channel, body)] = _sent(session, patient.id)
    assert (purpose, channel) == ("ready", "voice")
    assert body.startswith("Hola, le habla Main Street Pharmacy. Sus resurtidos están listos")


def test_an_uncollected_fill_gets_one_reminder_then_a_return_to_stock_item(
    app: Flask, session: Session
) -> None:
    patient = _patient(session)
    _mark(app, session, patient, "prepared", "ready", at=ny(2026, 12, 7, 9, 0))
    fake = ClockedFake()
    walk(app, fake, ny(2026, 12, 7, 9, 0), ny(2026, 12, 20, 9, 0), dt.timedelta(hours=6))
    sent = _sent(session, patient.id)
    assert [p for p, _, _ in sent] == ["ready", "pickup_reminder"]
    assert "waiting for pickup" in sent[1][2]
    reminded = session.scalars(select(Fill)).one().pickup_reminded_at
    assert reminded is not None and reminded >= ny(2026, 12, 12, 9, 0)  # after 5 pickup days
    [item] = session.scalars(select(QueueItem).where(QueueItem.kind == QueueKind.NOT_PICKED_UP))
    fill = session.scalars(select(Fill)).one()
    assert item.fill_id == fill.id and item.anchor_date == ANCHOR
    assert item.created_at >= ny(2026, 12, 17, 9, 0)  # twice the pickup days after ready
    assert "return it to stock" in (item.text or "")
    assert fill.state is FillState.READY  # staff decide; the bag is still on the shelf


def test_a_fill_picked_up_in_time_and_a_delivery_fill_get_no_reminder(
    app: Flask, session: Session
) -> None:
    patient = _patient(session, delivery=Delivery.DELIVERY)
    _mark(app, session, patient, "prepared", "ready", at=ny(2026, 12, 7, 9, 0))
    fake = ClockedFake()
    walk(app, fake, ny(2026, 12, 7, 9, 0), ny(2026, 12, 20, 9, 0), dt.timedelta(hours=12))
    sent = _sent(session, patient.id)
    assert [p for p, _, _ in sent] == ["ready"]
    assert "will be delivered soon" in sent[0][2]
    assert session.scalars(select(QueueItem)).all() == []
    _mark(app, session, patient, "delivered", at=ny(2026, 12, 20, 10, 0))
    assert session.scalars(select(Fill)).one().state is FillState.DELIVERED


def test_an_opted_out_patient_is_not_told_and_the_fill_moves_on(
    app: Flask, session: Session
) -> None:
    patient = _patient(session)
    _mark(app, session, patient, "prepared", "ready", at=ny(2026, 12, 7, 9, 0))
    patient.opted_out_at = ny(2026, 12, 7, 9, 5)
    session.commit()
    fake = ClockedFake()
    walk(app, fake, ny(2026, 12, 7, 9, 30), ny(2026, 12, 18, 9, 30), dt.timedelta(hours=12))
    assert fake.contacts == []
    assert len(session.scalars(select(QueueItem)).all()) == 1  # the not_picked_up item only
