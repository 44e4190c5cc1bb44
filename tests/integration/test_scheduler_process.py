"""`flask run-scheduler` as operators run it: passes on an interval, a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session

from tests.factories import make_patient, make_store

ROOT = Path(__file__).resolve().parents[2]


def test_it_runs_passes_until_sigterm_then_stops_cleanly(
    app: Flask, session: Session, migrated_url: str, tmp_path: Path
) -> None:
    store = make_store(session)
    make_patient(session, store)  # something for the passes to read
    session.commit()
    env = {
        **os.environ,
        "DATABASE_URL": migrated_url,
        "SECRET_KEY": "test",
        "MEDSYNC_TRANSPORT": "console",
        "SCHEDULER_INTERVAL_SECONDS": "1",
        "LOG_LEVEL": "INFO",
    }
    log_path = tmp_path / "scheduler.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "run-scheduler", "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while log_path.read_text().count("scheduler pass at") < 2:
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
            process.send_signal(signal.SIGTERM)
            assert process.wait(30) == 0
        finally:
            if process.poll() is None:
                process.kill()
    output = log_path.read_text()
    assert "scheduler: stopped" in output
    assert "Traceback" not in output
