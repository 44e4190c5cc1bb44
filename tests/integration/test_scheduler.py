"""Scheduler passes walked through whole cycles with an injected clock (SQLite or PostgreSQL)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.transports.base import Outcome
from scheduler import cli as scheduler_cli
from store.models import (
    Checkin,
    CheckinStatus,
    Direction,
    Enrollment,
    Message,
    Purpose,
    QueueItem,
    QueueKind,
    QueueStatus,
)
from tests.factories import make_patient, make_store
from tests.integration.scheduler_helpers import ClockedFake, fresh, ny, tick, walk
from tests.twilio_helpers import TwilioPoster

ANCHOR = dt.date(2026, 12, 14)
SILENT = "+12025550143"
TALKER = "+12025550144"
HOUR = dt.timedelta(hours=1)


def checkin_of(session: Session, phone: str, anchor: dt.date = ANCHOR) -> Checkin:
    return session.scalars(
        select(Checkin)
        .join(Checkin.patient)
        .where(Checkin.anchor_date == anchor, Checkin.patient.has(phone=phone))
    ).one()


def outreach_purposes(session: Session, phone: str) -> list[str]:
    rows = session.scalars(
        select(Message.purpose)
        .where(
            Message.to_number == phone,
            Message.direction == Direction.OUTBOUND,
            Message.purpose.in_([Purpose.FIRST, Purpose.REMINDER, Purpose.CALL]),
        )
        .order_by(Message.id)
    )
    return [str(p) for p in rows]


def test_it_walks_a_whole_cycle_for_a_silent_patient_and_one_who_answers(
    app: Flask, session: Session, twilio: TwilioPoster
) -> None:
    store = make_store(session)
    make_patient(session, store, "P1", phone=SILENT, anchor_date=ANCHOR)
    make_patient(session, store, "P2", phone=TALKER, anchor_date=ANCHOR)
    session.commit()
    fake = ClockedFake()

    walk(app, fake, ny(2026, 12, 6, 0, 0), ny(2026, 12, 7, 12, 0), HOUR)
    # The first text of both, at T-7 when the window opens (09:00 New York).
    assert [(c.kind, c.at) for c in fake.to(SILENT)] == [("sms", ny(2026, 12, 7, 9, 0))]
    assert [(c.kind, c.at) for c in fake.to(TALKER)] == [("sms", ny(2026, 12, 7, 9, 0))]
    validity = [s.validity_period for s in fake.sent if s.to == SILENT]
    assert validity == [10 * 3600]  # until 19:00: a queued text never arrives after it

    # One patient answers by the real, signed webhook: nothing new (the quick form: one reply).
    assert twilio.sms(TALKER, "no").status_code == 200

    walk(app, fake, ny(2026, 12, 7, 13, 0), ny(2026, 12, 16, 12, 0), HOUR)
    assert [(c.kind, c.at) for c in fake.to(SILENT)] == [
        ("sms", ny(2026, 12, 7, 9, 0)),
        ("sms", ny(2026, 12, 8, 9, 0)),  # reminder after 24 h
        ("call", ny(2026, 12, 9, 9, 0)),  # the IVR call 24 h later
    ]
    assert [c.kind for c in fake.to(TALKER)] == ["sms"]  # answering stopped all follow-ups

    with fresh(app) as check:
        assert outreach_purposes(check, SILENT) == ["first", "reminder", "call"]
        silent = checkin_of(check, SILENT)
        assert silent.status == CheckinStatus.UNREACHABLE
        items = check.scalars(select(QueueItem).where(QueueItem.checkin_id == silent.id)).all()
        assert [(i.kind, i.anchor_date) for i in items] == [(QueueKind.UNREACHABLE, ANCHOR)]
        assert silent.completed_at == ny(2026, 12, 11, 0, 0)  # T-3, local midnight
        talker = checkin_of(check, TALKER)
        assert talker.status == CheckinStatus.CONFIRMED
        assert set((talker.topics or {}).values()) == {"none"}
        anchors = check.scalars(select(Enrollment.anchor_date)).all()
        assert anchors == [dt.date(2027, 1, 13)] * 2  # rolled by one 30-day cycle

    # The next cycle starts over at its own T-7.
    walk(app, fake, ny(2027, 1, 6, 8, 0), ny(2027, 1, 6, 10, 0), HOUR)
    assert [c.at for c in fake.to(SILENT)][-1] == ny(2027, 1, 6, 9, 0)
    with fresh(app) as check:
        assert checkin_of(check, SILENT, dt.date(2027, 1, 13)).status == CheckinStatus.IN_PROGRESS


def test_an_abandoned_checkin_gets_one_reminder_to_finish_then_one_incomplete_item(
    app: Flask, session: Session, twilio: TwilioPoster
) -> None:
    """SPEC 6: answered in part, then silent: one reminder to finish, then `incomplete`."""
    store = make_store(session)
    make_patient(session, store, phone=SILENT, anchor_date=ANCHOR)
    session.commit()
    fake = ClockedFake()
    tick(app, fake, ny(2026, 12, 7, 10, 0))  # the first text
    # A report, then silence at "anything else?" (the real, signed webhook).
    assert twilio.sms(SILENT, "I stopped taking the metformin").status_code == 200
    walk(app, fake, ny(2026, 12, 7, 11, 0), ny(2026, 12, 14, 20, 0), HOUR)
    with fresh(app) as check:
        assert outreach_purposes(check, SILENT) == ["first", "reminder"]  # no call, no second
        reminder = fake.to(SILENT)[-1]
        assert reminder.at >= ny(2026, 12, 8, 9, 0)  # a day after the reply, in the window
        assert "Anything else?" in (fake.sent[-1].body or "")  # the question it stopped at
        checkin = checkin_of(check, SILENT)
        assert checkin.status == CheckinStatus.INCOMPLETE
        assert checkin.completed_at == ny(2026, 12, 11, 0, 0)  # T-3, local midnight
        items = check.scalars(
            select(QueueItem).where(QueueItem.checkin_id == checkin.id).order_by(QueueItem.id)
        ).all()
        assert [i.kind for i in items] == [QueueKind.MED_CHANGE, QueueKind.INCOMPLETE]
        assert "missed doses or side effects" in (items[1].text or "")
        assert "medication changes" not in (items[1].text or "")  # that one was reported


def test_a_reply_that_answers_the_dialog_stops_the_follow_ups(
    app: Flask, session: Session, twilio: TwilioPoster
) -> None:
    store = make_store(session)
    make_patient(session, store, phone=SILENT, anchor_date=ANCHOR)
    session.commit()
    fake = ClockedFake()
    tick(app, fake, ny(2026, 12, 7, 10, 0))
    assert twilio.sms(SILENT, "nope, nothing new").status_code == 200
    walk(app, fake, ny(2026, 12, 8, 8, 0), ny(2026, 12, 14, 20, 0), HOUR)
    assert len(fake.to(SILENT)) == 1
    with fresh(app) as check:
        assert checkin_of(check, SILENT).status == CheckinStatus.CONFIRMED


def test_it_gives_a_late_enrollee_a_checkin_and_a_text(app: Flask, session: Session) -> None:
    store = make_store(session)
    make_patient(session, store, phone=SILENT, anchor_date=ANCHOR)
    session.commit()
    fake = ClockedFake()
    report = tick(app, fake, ny(2026, 12, 12, 15, 0))  # anchor - 2 days: enrolled late
    assert (report.created, report.texts) == (1, 1)
    assert [c.at for c in fake.to(SILENT)] == [ny(2026, 12, 12, 15, 0)]


def test_it_is_harmless_to_run_the_same_pass_twice(app: Flask, session: Session) -> None:
    store = make_store(session)
    make_patient(session, store, phone=SILENT, anchor_date=ANCHOR)
    session.commit()
    fake = ClockedFake()
    first = tick(app, fake, ny(2026, 12, 7, 10, 0))
    second = tick(app, fake, ny(2026, 12, 7, 10, 0))
    assert (first.created, first.texts) == (1, 1)
    assert (second.created, second.texts) == (0, 0)
    with fresh(app) as check:
        assert len(check.scalars(select(Checkin)).all()) == 1


def test_it_contacts_nobody_outside_the_window_without_consent_or_after_opt_out(
    app: Flask, session: Session
) -> None:
    store = make_store(session)
    make_patient(session, store, "P1", phone=SILENT, consent_date=None)
    make_patient(session, store, "P2", phone=TALKER, opted_out_at=ny(2026, 11, 1, 10, 0))
    session.commit()
    fake = ClockedFake()
    report = tick(app, fake, ny(2026, 11, 30, 20, 0))  # T-7 of 2026-12-07 but after 19:00
    assert (report.created, fake.contacts) == (2, [])
    walk(app, fake, ny(2026, 12, 1, 8, 0), ny(2026, 12, 8, 12, 0), HOUR)
    assert fake.contacts == []
    with fresh(app) as check:
        statuses = {c.patient.phone: c.status for c in check.scalars(select(Checkin))}
        assert statuses == {SILENT: CheckinStatus.EXPIRED, TALKER: CheckinStatus.OPTED_OUT}


def test_it_sends_no_reminder_while_staff_own_the_checkin(app: Flask, session: Session) -> None:
    store = make_store(session)
    patient = make_patient(session, store, phone=SILENT, anchor_date=ANCHOR)
    session.commit()
    fake = ClockedFake()
    tick(app, fake, ny(2026, 12, 7, 10, 0))
    with fresh(app) as write:
        checkin = checkin_of(write, SILENT)
        write.add(
            QueueItem(
                kind=QueueKind.CONCERN,
                store_id=store.id,
                patient_id=patient.id,
                checkin_id=checkin.id,
                status=QueueStatus.CLAIMED,
            )
        )
        write.commit()
    walk(app, fake, ny(2026, 12, 8, 8, 0), ny(2026, 12, 14, 20, 0), HOUR)
    assert len(fake.to(SILENT)) == 1
    with fresh(app) as check:
        kinds = check.scalars(select(QueueItem.kind)).all()
        assert QueueKind.UNREACHABLE not in kinds


def test_it_calls_after_a_text_refused_as_a_landline_and_gives_up_after_a_refused_call(
    app: Flask, session: Session
) -> None:
    store = make_store(session)
    make_patient(session, store, phone=SILENT, anchor_date=ANCHOR)
    session.commit()
    fake = ClockedFake()
    fake.fail_next(Outcome.INVALID_NUMBER, code=21614, to=SILENT)
    tick(app, fake, ny(2026, 12, 7, 10, 0))
    # The refused text never reached anyone, so the call may follow in the same pass.
    assert [(c.kind, c.ok) for c in fake.to(SILENT)] == [("sms", False), ("call", True)]

    fake2 = ClockedFake()
    with fresh(app) as write:
        write.execute(
            Enrollment.__table__.update().values(anchor_date=dt.date(2027, 1, 20))  # type: ignore[attr-defined]
        )
        write.commit()
    fake2.fail_next(Outcome.INVALID_NUMBER, code=21614, to=SILENT)
    fake2.fail_next(Outcome.INVALID_NUMBER, code=21211, to=SILENT)
    tick(app, fake2, ny(2027, 1, 13, 10, 0))
    assert [(c.kind, c.ok) for c in fake2.to(SILENT)] == [("sms", False), ("call", False)]
    with fresh(app) as check:
        checkin = checkin_of(check, SILENT, dt.date(2027, 1, 20))
        assert checkin.status == CheckinStatus.UNREACHABLE
        kinds = sorted(
            str(k)
            for k in check.scalars(select(QueueItem.kind).where(QueueItem.checkin_id == checkin.id))
        )
        assert kinds == ["invalid_number", "unreachable"]


class Crash(KeyboardInterrupt):
    """Stands for the process dying between recording a send and making it."""


class CrashingTransport(ClockedFake):
    def send_sms(self, **kwargs):  # type: ignore[no-untyped-def]
        raise Crash()


def test_it_never_sends_twice_after_a_crash_between_recording_and_sending(
    app: Flask, session: Session
) -> None:
    store = make_store(session)
    make_patient(session, store, phone=SILENT, anchor_date=ANCHOR)
    session.commit()
    with pytest.raises(Crash):
        tick(app, CrashingTransport(), ny(2026, 12, 7, 10, 0))
    fake = ClockedFake()
    # After a restart: the claim runs out, the pending attempt counts as made.
    walk(app, fake, ny(2026, 12, 7, 10, 5), ny(2026, 12, 7, 18, 0), dt.timedelta(minutes=5))
    with fresh(app) as check:
        assert outreach_purposes(check, SILENT) == ["first"]
        status = check.scalars(select(Message.status).where(Message.to_number == SILENT)).one()
        assert status == "pending"
    assert fake.contacts == []


def test_it_runs_a_pass_from_the_tick_command(app: Flask, session: Session) -> None:
    store = make_store(session)
    make_patient(session, store, phone=SILENT, anchor_date=ANCHOR)
    session.commit()
    scheduler_cli.init_app(app)
    result = app.test_cli_runner().invoke(args=["tick", "--now", "2026-12-07T15:00:00Z"])
    assert result.exit_code == 0, result.output
    assert "check-ins created: 1" in result.output
    assert "texts sent: 1" in result.output
    bad = app.test_cli_runner().invoke(args=["tick", "--now", "next tuesday"])
    assert bad.exit_code != 0
    assert "not an ISO 8601 time" in bad.output


def test_tick_next_runs_the_pass_when_the_next_outreach_is_due(
    app: Flask, session: Session
) -> None:
    # Dates ahead of the real clock: --next never runs a pass before now.
    anchor = dt.date.today() + dt.timedelta(days=30)
    first_at = dt.datetime.combine(anchor - dt.timedelta(days=7), dt.time(15), tzinfo=dt.UTC)
    store = make_store(session)
    make_patient(session, store, phone=SILENT, anchor_date=anchor)
    session.commit()
    scheduler_cli.init_app(app)
    cli = app.test_cli_runner()
    first = cli.invoke(args=["tick", "--now", first_at.isoformat()])
    assert "texts sent: 1" in first.output, first.output
    with fresh(app) as check:
        reminder_at = checkin_of(check, SILENT, anchor).next_attempt_at
    assert reminder_at is not None and reminder_at > first_at

    result = cli.invoke(args=["tick", "--next"])
    assert result.exit_code == 0, result.output
    assert f"pass at {reminder_at.isoformat()}" in result.output
    assert "texts sent: 1" in result.output
    with fresh(app) as check:
        assert outreach_purposes(check, SILENT) == ["first", "reminder"]

    both = cli.invoke(args=["tick", "--next", "--now", first_at.isoformat()])
    assert both.exit_code != 0 and "not both" in both.output


def test_tick_next_is_refused_when_texts_would_really_go_out(app: Flask) -> None:
    res = app.extensions["medsync"]
    res.settings = dataclasses.replace(res.settings, transport="twilio")
    scheduler_cli.init_app(app)
    result = app.test_cli_runner().invoke(args=["tick", "--next"])
    assert result.exit_code != 0
    assert "console transport only" in result.output
