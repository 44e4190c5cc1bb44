"""Schedulers in separate processes: racing ones send each check-in once, and a process that
dies between recording a send and making it is never followed by a second send."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from bot.transports.base import Outcome, SendResult
from bot.transports.fake import FakeTransport
from scheduler.jobs import run_pass
from store.db import Database
from store.models import Checkin, Enrollment, Message, Patient, Purpose
from tests.factories import make_patient, make_store
from tests.integration.scheduler_helpers import DEFAULTS, URLS, fresh, ny

ANCHOR = dt.date(2026, 12, 14)
NOW = ny(2026, 12, 7, 10, 0)
PATIENTS = 60


class FileTransport(FakeTransport):
    """Append one line per request to a file shared by processes; slow enough to overlap."""

    def __init__(self, path: str, crash: bool = False) -> None:
        super().__init__()
        self.path = path
        self.crash = crash

    def send_sms(self, **kwargs: Any) -> SendResult:
        if self.crash:
            os._exit(3)  # the process dies after the pending row was committed
        time.sleep(0.005)
        with open(self.path, "a") as log:
            log.write(f"{os.getpid()} {kwargs['to']}\n")
        return SendResult(Outcome.SENT, f"SM{os.getpid()}{kwargs['to'][1:]}", "queued")


def scheduler_process(
    url: str, record: str, start_at: float, crash: bool, crash_at_hand_over: bool = False
) -> None:
    """Run one pass at NOW in this process, starting at `start_at` (time.time); with
    `crash_at_hand_over`, the process dies after the batch's record commit, before any text
    is handed over to Twilio."""
    if crash_at_hand_over:
        from store import checkins

        def die(*args: object) -> list[int]:
            os._exit(4)

        checkins.hand_over = die  # type: ignore[assignment]
    db = Database(url)
    time.sleep(max(0.0, start_at - time.time()))
    run_pass(db.sessions, NOW, transport=FileTransport(record, crash), urls=URLS, defaults=DEFAULTS)
    db.dispose()


def spawn(
    url: str, record: Path, start_at: float, crash: bool = False, at_hand_over: bool = False
) -> Any:
    context = multiprocessing.get_context("spawn")
    process = context.Process(
        target=scheduler_process,
        args=(url, str(record), start_at, crash, at_hand_over),
        daemon=True,
    )
    process.start()
    return process


def seed(session: Session, count: int) -> None:
    store = make_store(session)
    for n in range(count):
        make_patient(session, store, f"P{n}", phone=f"+1202555{n:04d}", anchor_date=ANCHOR)
    session.commit()


@pytest.mark.postgres_only
def test_it_sends_each_checkin_once_with_two_schedulers_racing(
    app: Flask, session: Session, migrated_url: str, tmp_path: Path
) -> None:
    seed(session, PATIENTS)
    record = tmp_path / "sent.txt"
    start_at = time.time() + 3  # both import and connect first, then start together
    racers = [spawn(migrated_url, record, start_at) for _ in range(2)]
    for racer in racers:
        racer.join(120)
        assert racer.exitcode == 0
    lines = record.read_text().splitlines()
    phones = [line.split()[1] for line in lines]
    assert sorted(phones) == sorted(f"+1202555{n:04d}" for n in range(PATIENTS))
    with fresh(app) as check:
        assert check.scalar(select(func.count()).select_from(Checkin)) == PATIENTS
        firsts = select(func.count()).where(Message.purpose == Purpose.FIRST)
        assert check.scalar(firsts) == PATIENTS


def test_it_sends_nothing_twice_after_a_scheduler_process_dies_mid_send(
    app: Flask, session: Session, migrated_url: str, tmp_path: Path
) -> None:
    seed(session, 1)
    record = tmp_path / "sent.txt"
    crashed = spawn(migrated_url, record, time.time(), crash=True)
    crashed.join(120)
    assert crashed.exitcode == 3
    # Restarted schedulers, passes every five minutes for the rest of the day.
    db = Database(migrated_url)
    for minutes in range(5, 9 * 60, 5):
        now = NOW + dt.timedelta(minutes=minutes)
        run_pass(
            db.sessions, now, transport=FileTransport(str(record)), urls=URLS, defaults=DEFAULTS
        )
    db.dispose()
    assert not record.exists()
    with fresh(app) as check:
        rows = check.execute(select(Message.purpose, Message.status)).all()
        assert [(str(p), s) for p, s in rows] == [("first", "pending")]


def test_a_crash_after_the_record_commit_and_before_the_sends_loses_no_text(
    app: Flask, session: Session, migrated_url: str, tmp_path: Path
) -> None:
    """The batch's texts were recorded and committed, none handed over: the restarted pass
    (at once: the dead pass's claims are free) sends each of them once, as recorded."""
    seed(session, 12)
    record = tmp_path / "sent.txt"
    crashed = spawn(migrated_url, record, time.time(), at_hand_over=True)
    crashed.join(120)
    assert crashed.exitcode == 4
    assert not record.exists()
    with fresh(app) as check:
        statuses = check.scalars(select(Message.status)).all()
        assert statuses == ["outbox"] * 12  # recorded, never handed over
        bodies = dict(check.execute(select(Message.to_number, Message.body)).all())
    db = Database(migrated_url)
    run_pass(db.sessions, NOW, transport=FileTransport(str(record)), urls=URLS, defaults=DEFAULTS)
    run_pass(  # and a later pass sends nothing more
        db.sessions,
        NOW + dt.timedelta(minutes=5),
        transport=FileTransport(str(record)),
        urls=URLS,
        defaults=DEFAULTS,
    )
    db.dispose()
    phones = [line.split()[1] for line in record.read_text().splitlines()]
    assert sorted(phones) == sorted(f"+1202555{n:04d}" for n in range(12))
    with fresh(app) as check:
        rows = check.execute(select(Message.to_number, Message.status, Message.body)).all()
        assert len(rows) == 12  # the recorded texts themselves, no second copy
        assert {status for _, status, _ in rows} == {"queued"}
        assert {to: body for to, _, body in rows} == bodies


def seed_many(session: Session, count: int) -> None:
    """`count` patients due now, inserted in bulk (the factories take too long at 10,000)."""
    store = make_store(session)
    session.commit()
    patients = [
        {
            "store_id": store.id,
            "external_id": f"P{n}",
            "first_name": "Ana",
            "last_name": "Lopez",
            "phone": f"+1202{n:07d}",
            "language": "en",
            "channel": "sms",
            "consent_date": dt.date(2026, 1, 2),
            "phi_ok": False,
            "needs_review": False,
            "delivery": "pickup",
            "created_at": NOW,
            "updated_at": NOW,
        }
        for n in range(count)
    ]
    session.execute(insert(Patient), patients)
    ids = session.scalars(select(Patient.id).order_by(Patient.id)).all()
    session.execute(
        insert(Enrollment),
        [
            {
                "patient_id": i,
                "anchor_date": ANCHOR,
                "cycle_days": 30,
                "active": True,
                "created_at": NOW,
            }
            for i in ids
        ],
    )
    session.commit()


@pytest.mark.postgres_only
def test_four_schedulers_share_ten_thousand_checkins_without_a_duplicate(
    app: Flask, session: Session, migrated_url: str, tmp_path: Path
) -> None:
    """Issue 16: four scheduler processes on PostgreSQL over 10,000 due check-ins."""
    count = 10_000
    seed_many(session, count)
    record = tmp_path / "sent.txt"
    start_at = time.time() + 3
    racers = [spawn(migrated_url, record, start_at) for _ in range(4)]
    for racer in racers:
        racer.join(600)
        assert racer.exitcode == 0
    lines = record.read_text().splitlines()
    phones = [line.split()[1] for line in lines]
    assert len(phones) == count and len(set(phones)) == count  # all texted, none twice
    per_process = Counter(line.split()[0] for line in lines)
    assert len(per_process) == 4
    assert min(per_process.values()) >= count // 10  # the work is spread across them
    with fresh(app) as check:
        firsts = select(func.count()).where(Message.purpose == Purpose.FIRST)
        assert check.scalar(firsts) == count
