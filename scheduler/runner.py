"""The scheduler process: APScheduler running `run_pass` on an interval, until SIGTERM.

The runner is handed the Flask app (wsgi.py builds it); it never creates one. Each pass runs
inside an app context and owns its transactions (scheduler.jobs).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import signal
import time
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from bot import metrics
from bot.extensions import resources
from bot.outreach import Defaults, Urls
from bot.transports import Transport, default_sender, make_transport
from scheduler.jobs import PassReport, run_pass
from store import checkins

log = logging.getLogger(__name__)

JOB_ID = "scheduler-pass"
# Callback URLs need an origin even when PUBLIC_BASE_URL is unset (console/demo mode).
FALLBACK_BASE_URL = "http://127.0.0.1:5000"


DEFAULT_WORKERS = 4  # check-ins handled at once: sends wait on Twilio, not on this process


def run_once(
    app: Flask,
    now: dt.datetime,
    transport: Transport | None = None,
    workers: int = DEFAULT_WORKERS,
) -> PassReport:
    """Run one pass of the scheduler as of `now` inside an app context."""
    with app.app_context():
        res = resources()
        config = res.settings
        started = time.perf_counter()
        try:
            report = run_pass(
                res.db.sessions,
                now,
                transport=transport or make_transport(config),
                urls=Urls(config.public_base_url or FALLBACK_BASE_URL),
                defaults=Defaults(config.pharmacy_store_code, default_sender(config)),
                workers=workers,
            )
        except Exception:
            metrics.observe_pass(time.perf_counter() - started, {}, failed=True)
            raise
        metrics.observe_pass(time.perf_counter() - started, dataclasses.asdict(report))
        return report


def next_outreach_time(app: Flask, now: dt.datetime) -> dt.datetime:
    """`now`, or the later moment the earliest open check-in is waiting for.

    That is usually the opening of tomorrow's send window, or a reminder's delay: a pass as
    of it makes the next outreach happen at once, which is what the demo wants at any hour.
    """
    with app.app_context(), resources().db.sessions() as session:
        due = checkins.earliest_next_attempt(session)
    return max(now, due) if due is not None else now


def serve(app: Flask, workers: int = DEFAULT_WORKERS) -> None:
    """Run a pass at start, then every SCHEDULER_INTERVAL_SECONDS, until SIGTERM or SIGINT."""
    with app.app_context():
        config = resources().settings
    # One transport for the life of the process, so its pacer spaces sends across passes.
    transport = make_transport(config)
    scheduler = BlockingScheduler(timezone=dt.UTC)

    def one_pass() -> None:
        try:
            run_once(app, dt.datetime.now(dt.UTC), transport, workers)
        except Exception:
            # A failed pass (database down...) is logged; the next one tries again.
            log.exception("scheduler pass failed")

    scheduler.add_job(
        one_pass,
        "interval",
        seconds=config.scheduler_interval_seconds,
        id=JOB_ID,
        next_run_time=dt.datetime.now(dt.UTC),  # a pass at start
        max_instances=1,  # a slow pass is never overlapped by the next one
        coalesce=True,  # passes missed while one ran collapse into one
    )

    def stop(signum: int, _frame: FrameType | None) -> None:
        # Ctrl-C reaches the whole process group and a supervisor may send TERM too: the
        # second signal finds the scheduler already stopping.
        if scheduler.running:
            log.info("scheduler: signal %s, stopping after the current pass", signum)
            scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("scheduler: a pass every %ss", config.scheduler_interval_seconds)
    scheduler.start()
    log.info("scheduler: stopped")
