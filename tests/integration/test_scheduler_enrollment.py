"""The scheduler and enrollment (SPEC 14): the welcome text once, in the window and the
patient's language; paused and unreviewed patients get nothing; declined ones never."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import (
    Channel,
    Checkin,
    ConsentMethod,
    ConsentState,
    Direction,
    Language,
    Message,
    Patient,
    Store,
)
from tests.factories import make_patient, make_store
from tests.integration.scheduler_helpers import ClockedFake, ny, tick, walk

ANCHOR = dt.date(2026, 12, 14)
HOUR = dt.timedelta(hours=1)


def consented(session: Session, external_id: str = "P1", **overrides: object) -> Patient:
    """A patient whose consent staff just recorded (accepted), not welcomed yet."""
    values: dict[str, object] = {
        "consent_state": ConsentState.ACCEPTED,
        "consent_method": ConsentMethod.VERBAL,
        "consent_date": dt.date(2026, 12, 1),
        "anchor_date": ANCHOR,
    }
    values.update(overrides)
    store = session.scalars(select(Store).where(Store.code == "main")).first()
    patient = make_patient(session, store or make_store(session), external_id, **values)  # type: ignore[arg-type]
    session.commit()
    return patient


def outbound(session: Session, patient_id: int) -> list[tuple[str, str, str]]:
    session.expire_all()
    rows = session.execute(
        select(Message.purpose, Message.channel, Message.body)
        .where(Message.patient_id == patient_id, Message.direction == Direction.OUTBOUND)
        .order_by(Message.id)
    )
    return [(str(p), str(c), b or "") for p, c, b in rows]


def test_the_welcome_is_sent_once_inside_the_window(app: Flask, session: Session) -> None:
    patient = consented(session)
    fake = ClockedFake()
    tick(app, fake, ny(2026, 12, 2, 7, 0))  # before the 09:00 window opens
    assert fake.contacts == []
    report = tick(app, fake, ny(2026, 12, 2, 9, 0))
    assert report.welcomes == 1
    walk(app, fake, ny(2026, 12, 2, 10, 0), ny(2026, 12, 4, 10, 0), HOUR)
    sent = outbound(session, patient.id)
    assert [p for p, _, _ in sent] == ["welcome"]
    body = sent[0][2]
    assert body.startswith("Main Street Pharmacy: Hi Ana! Welcome to Med Sync")
    assert "next pickup Mon Dec 14" in body and "HELP" in body and "STOP" in body
    assert fake.sent[0].validity_period == 10 * 3600  # never delivered after 19:00
    session.expire_all()
    assert session.get(Patient, patient.id).welcomed_at == ny(2026, 12, 2, 9, 0)  # type: ignore[union-attr]
    # It starts no check-in: none exists until lead days before the anchor.
    assert session.scalars(select(Checkin)).all() == []


def test_the_welcome_is_in_spanish_for_spanish_speakers(app: Flask, session: Session) -> None:
    patient = consented(session, language=Language.ES)
    tick(app, ClockedFake(), ny(2026, 12, 2, 9, 0))
    [(purpose, channel, body)] = outbound(session, patient.id)
    assert (purpose, channel) == ("welcome", "sms")
    assert "Med Sync: msj antes" in body and "lun 14 dic" in body and "ALTO" in body


def test_a_voice_only_patient_is_welcomed_by_a_call(app: Flask, session: Session) -> None:
    patient = consented(session, channel=Channel.VOICE)
    fake = ClockedFake()
    tick(app, fake, ny(2026, 12, 2, 9, 0))
    assert [c.kind for c in fake.contacts] == ["call"]
    [(purpose, channel, words)] = outbound(session, patient.id)
    assert (purpose, channel) == ("welcome", "voice")
    assert "Welcome to the Med Sync program" in words and "Monday, December 14" in words


def test_the_welcome_comes_first_and_the_check_in_the_next_day(
    app: Flask, session: Session
) -> None:
    """Consent recorded six days before the anchor: the check-in is due at once, but the
    welcome counts against the one-a-day cap and goes first."""
    patient = consented(session, consent_date=dt.date(2026, 12, 8))
    fake = ClockedFake()
    walk(app, fake, ny(2026, 12, 8, 9, 0), ny(2026, 12, 9, 12, 0), HOUR)
    assert [p for p, _, _ in outbound(session, patient.id)] == ["welcome", "first"]
    assert [c.at for c in fake.contacts] == [ny(2026, 12, 8, 9, 0), ny(2026, 12, 9, 9, 0)]


def test_a_declined_patient_is_never_contacted(app: Flask, session: Session) -> None:
    patient = consented(
        session, consent_state=ConsentState.DECLINED, consent_date=None, anchor_date=ANCHOR
    )
    fake = ClockedFake()
    walk(app, fake, ny(2026, 12, 2, 8, 0), ny(2026, 12, 15, 20, 0), 3 * HOUR)
    assert fake.contacts == [] and outbound(session, patient.id) == []


def test_patients_consented_before_consent_states_are_not_welcomed(
    app: Flask, session: Session
) -> None:
    """They have been getting check-ins for months already (consent_state None)."""
    patient = consented(session, consent_state=None, consent_method=None)
    tick(app, ClockedFake(), ny(2026, 12, 2, 9, 0))
    assert outbound(session, patient.id) == []


def test_a_paused_patient_gets_no_check_in_and_no_outreach_until_the_pause_ends(
    app: Flask, session: Session
) -> None:
    patient = consented(session, consent_state=None)
    assert patient.enrollment is not None
    patient.enrollment.paused_until = dt.date(2026, 12, 10)
    session.commit()
    fake = ClockedFake()
    walk(app, fake, ny(2026, 12, 6, 8, 0), ny(2026, 12, 9, 20, 0), HOUR)
    assert fake.contacts == []
    assert session.scalars(select(Checkin)).all() == []  # not even created
    walk(app, fake, ny(2026, 12, 10, 8, 0), ny(2026, 12, 10, 10, 0), HOUR)
    assert [(c.kind, c.at) for c in fake.contacts] == [("sms", ny(2026, 12, 10, 9, 0))]


def test_a_pause_holds_a_check_in_already_open(app: Flask, session: Session) -> None:
    patient = consented(session, consent_state=None)
    fake = ClockedFake()
    tick(app, fake, ny(2026, 12, 7, 9, 0))  # the first text
    assert len(fake.contacts) == 1
    session.expire_all()
    enrollment = session.get(Patient, patient.id).enrollment  # type: ignore[union-attr]
    enrollment.paused_until = dt.date(2026, 12, 10)  # a hospital stay
    session.commit()
    walk(app, fake, ny(2026, 12, 8, 8, 0), ny(2026, 12, 9, 20, 0), HOUR)
    assert len(fake.contacts) == 1  # no reminder, no call while paused
    walk(app, fake, ny(2026, 12, 10, 8, 0), ny(2026, 12, 10, 10, 0), HOUR)
    assert [c.at for c in fake.contacts[1:]] == [ny(2026, 12, 10, 9, 0)]  # the reminder


def test_a_patient_new_from_an_import_waits_for_review(app: Flask, session: Session) -> None:
    patient = consented(session, needs_review=True, consent_method=ConsentMethod.IMPORT)
    fake = ClockedFake()
    walk(app, fake, ny(2026, 12, 2, 8, 0), ny(2026, 12, 9, 20, 0), 2 * HOUR)
    assert fake.contacts == []
    session.expire_all()
    [checkin] = session.scalars(select(Checkin)).all()  # the cycle's record, no outreach
    assert checkin.attempts == 0
    reviewed = session.get(Patient, patient.id)
    assert reviewed is not None
    reviewed.needs_review = False
    session.commit()
    tick(app, fake, ny(2026, 12, 10, 9, 0))
    assert [p for p, _, _ in outbound(session, patient.id)] == ["welcome"]
