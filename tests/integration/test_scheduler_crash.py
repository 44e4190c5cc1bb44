"""A pass killed with SIGKILL mid-batch, restarted at once with the same `--now` (issue 16):
everyone whose send had not started is texted, nobody twice. A batch's texts are recorded in
one commit and handed over to Twilio a wave at a time, the next wave while one is sent
(scheduler/batch.py): a kill between the two, or between two waves, leaves texts in the outbox
that the restart sends."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.twilio_standin import Handler
from store import checkins
from store.models import Checkin, Direction, Message, Purpose
from tests.factories import make_patient, make_store
from tests.integration.scheduler_helpers import ClockedFake, fresh, ny
from tests.integration.scheduler_helpers import tick as run_tick

ROOT = Path(__file__).resolve().parents[2]
PATIENTS = 30
NOW = ny(2026, 12, 7, 10, 0).isoformat()


class SlowHandler(Handler):
    """Twilio, answering one request every 0.15 s: slow enough to kill a pass in the middle.
    `seen` counts the texts it received, by number."""

    seen: Counter[str] = Counter()

    def do_POST(self) -> None:  # noqa: N802
        time.sleep(0.15)
        super().do_POST()

    def _answer(self, status: int, body: dict[str, object]) -> None:
        with self.lock:
            self.seen[str(body.get("to"))] += 1
        try:
            super()._answer(status, body)
        except BrokenPipeError:
            pass  # the pass was killed while it waited for this answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def standin() -> Iterator[str]:
    SlowHandler.seen.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def tick(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "tick", "--now", NOW, "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def texts_recorded(session: Session) -> Counter[str]:
    session.expire_all()
    rows = session.scalars(
        select(Message.to_number).where(
            Message.direction == Direction.OUTBOUND, Message.purpose == Purpose.FIRST
        )
    )
    return Counter(rows)


def first_statuses(session: Session) -> dict[str, str]:
    session.expire_all()
    rows = session.execute(
        select(Message.to_number, Message.status).where(
            Message.direction == Direction.OUTBOUND, Message.purpose == Purpose.FIRST
        )
    )
    return {to: status for to, status in rows}


def test_a_killed_pass_restarted_at_once_texts_everyone_else_once(
    app: Flask, session: Session, migrated_url: str, standin: str
) -> None:
    store = make_store(session)
    phones = [f"+1202555{n:04d}" for n in range(PATIENTS)]
    for n, phone in enumerate(phones):
        make_patient(session, store, f"P{n}", phone=phone, anchor_date=ny(2026, 12, 14).date())
    session.commit()
    env = {
        **os.environ,
        "DATABASE_URL": migrated_url,
        "SECRET_KEY": "test",
        "MEDSYNC_TRANSPORT": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "test-auth-token",
        "TWILIO_FROM_NUMBER": "+12025550100",
        "TWILIO_API_BASE_URL": standin,
        "PUBLIC_BASE_URL": "https://rx.example.org",
        "LOG_LEVEL": "WARNING",
    }
    first = tick(env)
    deadline = time.monotonic() + 60
    while sum(SlowHandler.seen.values()) < 8:  # a third of the way through
        assert first.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert sum(SlowHandler.seen.values()) < PATIENTS  # it really stopped mid-batch
    killed_at = first_statuses(session)
    assert "outbox" in killed_at.values()  # recorded and never handed over: still to send

    second = tick(env)  # at once: no waiting for the dead pass's claims to run out
    assert second.wait(120) == 0
    recorded = texts_recorded(session)
    assert set(recorded) == set(phones)  # everyone recorded once, the dead pass's included
    assert max(recorded.values()) == 1
    assert max(SlowHandler.seen.values()) == 1  # nobody texted twice
    # Everyone whose send had not started was texted: the only ones Twilio never saw are
    # those handed over (pending) in the wave the kill interrupted and the next one, handed
    # over while it was on the network: two at --workers 1.
    statuses = first_statuses(session)
    unseen = set(phones) - set(SlowHandler.seen)
    assert len(unseen) <= 2
    assert all(statuses[phone] == "pending" for phone in unseen)
    assert "outbox" not in statuses.values()


def _host() -> str:
    return socket.gethostname()


def _wall() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@pytest.mark.parametrize("alive", [True, False], ids=["live sibling", "dead sibling"])
def test_a_live_siblings_claims_are_skipped_and_a_dead_ones_are_not(
    app: Flask, session: Session, alive: bool
) -> None:
    store = make_store(session)
    make_patient(session, store, anchor_date=ny(2026, 12, 14).date())
    session.commit()
    fake = ClockedFake()
    now = ny(2026, 12, 7, 8, 0)  # before the window: the check-in is created, nothing sent
    run_tick(app, fake, now)
    engine = app.extensions["medsync"].db.engine
    # Another pass of this host: ours (alive, holding its lock) or a pid that no longer runs
    # and whose lock is gone (dead).
    lock = engine.connect()
    pid = os.getpid() if alive else 2**22 + 12345
    pass_id, _ = checkins.begin_pass(lock, _host(), pid, _wall())
    if not alive:
        checkins.release_pass_lock(lock, pass_id)
    with fresh(app) as write:
        checkin = write.scalars(select(Checkin)).one()
        checkin.claimed_by, checkin.claimed_until = pass_id, now + dt.timedelta(hours=2)
        write.commit()
    try:
        report = run_tick(app, fake, ny(2026, 12, 7, 9, 0))
    finally:
        checkins.release_pass_lock(lock, pass_id)
        lock.close()
    assert report.texts == (0 if alive else 1)
