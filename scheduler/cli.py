"""The scheduler's commands: `tick` (one pass) and `run-scheduler` (the process).

Registered on the app by wsgi.py, so that bot/ never imports scheduler/.
"""

from __future__ import annotations

import datetime as dt

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from bot.extensions import resources
from scheduler import runner


def init_app(app: Flask) -> None:
    """Register `tick` and `run-scheduler` on `app`."""
    app.cli.add_command(tick)
    app.cli.add_command(run_scheduler)


def parse_now(value: str | None) -> dt.datetime:
    """Parse --now (ISO 8601; no offset means UTC); default: the current time."""
    if value is None:
        return dt.datetime.now(dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"not an ISO 8601 time: {value!r} (e.g. 2026-12-01T14:00:00Z)", param_hint="--now"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


@click.command("tick")
@click.option("--now", "now_text", help="Run the pass as of this ISO 8601 time (default: now).")
@click.option(
    "--next",
    "to_next",
    is_flag=True,
    help="Console transport only: run the pass as of the next moment an open check-in waits "
    "for (a send window opening, a reminder's delay), so the next outreach happens now.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=runner.DEFAULT_WORKERS,
    show_default=True,
    help="Check-ins handled at once.",
)
@with_appcontext
def tick(now_text: str | None, to_next: bool, workers: int) -> None:
    """Run one scheduler pass and print what it did."""
    now = parse_now(now_text)
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if to_next:
        if now_text is not None:
            raise click.UsageError("give --now or --next, not both")
        # Running ahead of the clock would reach real patients outside their send window.
        if resources().settings.transport != "console":
            raise click.UsageError("--next runs ahead of the clock: console transport only")
        now = runner.next_outreach_time(app, now)
    report = runner.run_once(app, now, workers=workers)
    click.echo(f"pass at {now.isoformat()}")
    click.echo(report.summary())


@click.command("run-scheduler")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=runner.DEFAULT_WORKERS,
    show_default=True,
    help="Check-ins handled at once.",
)
@with_appcontext
def run_scheduler(workers: int) -> None:
    """Run the scheduler process (a pass at start, then on an interval) until stopped."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    runner.serve(app, workers)
