"""Per-store scheduler settings: `create-store` options, their validation, and their effect."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

from store.staff import get_store
from tests.factories import make_patient
from tests.integration.scheduler_helpers import ClockedFake, fresh, ny, tick

BASE = ["create-store", "north", "--name", "North", "--phone", "+12025550111"]
BASE += ["--timezone", "America/New_York", "--from-number", "+12025550100"]


def test_it_stores_the_scheduler_options_of_create_store(
    app: Flask, runner: FlaskCliRunner
) -> None:
    options = ["--lead-days", "5", "--send-window", "10:30-18:00"]
    options += ["--reminder-delay-hours", "36", "--unreachable-days", "2"]
    result = runner.invoke(args=[*BASE, *options])
    assert result.exit_code == 0, result.output
    with fresh(app) as check:
        store = get_store(check, "north")
        assert store is not None
        assert (store.lead_days, store.window_start_minute, store.window_end_minute) == (
            5,
            630,
            1080,
        )
        assert (store.reminder_delay_hours, store.unreachable_days) == (36, 2)
    # Updating without the options keeps them.
    assert runner.invoke(args=BASE).exit_code == 0
    with fresh(app) as check:
        store = get_store(check, "north")
        assert store is not None and (store.lead_days, store.window_start_minute) == (5, 630)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--send-window", "07:00-19:00"], "within 08:00-20:00"),
        (["--send-window", "19:00-09:00"], "start before it ends"),
        (["--send-window", "9am-7pm"], "expected HH:MM-HH:MM"),
        (["--send-window", "09:75-19:00"], "not a time of day"),
        (["--lead-days", "8"], "--lead-days: must be a whole number from 3 to 7"),
        (["--lead-days", "3", "--unreachable-days", "4"], "must not exceed the lead days"),
        (["--reminder-delay-hours", "0"], "must be a whole number from 1 to 72"),
    ],
)
def test_it_refuses_bad_scheduler_options_with_a_clear_error(
    app: Flask, runner: FlaskCliRunner, options: list[str], message: str
) -> None:
    result = runner.invoke(args=[*BASE, *options])
    assert result.exit_code == 2
    assert message in result.output
    with fresh(app) as check:
        assert get_store(check, "north") is None


def test_create_store_reports_every_wrong_option_at_once(
    app: Flask, runner: FlaskCliRunner
) -> None:
    options = ["--send-window", "09:75-19:00", "--lead-days", "9", "--unreachable-days", "x"]
    result = runner.invoke(args=[*BASE[:-4], "--timezone", "Mars/Base", *options])
    assert result.exit_code == 2
    for line in (
        "--timezone: unknown timezone",
        "--lead-days: must be a whole number from 3 to 7",
        "--send-window: not a time of day",
        "--unreachable-days: must be a whole number from 0 to 7",
    ):
        assert line in result.output


def test_it_follows_the_store_lead_days_and_send_window(
    app: Flask, runner: FlaskCliRunner, session: Session
) -> None:
    options = ["--lead-days", "3", "--send-window", "10:00-12:00"]
    assert runner.invoke(args=[*BASE, *options]).exit_code == 0
    store = get_store(session, "north")
    assert store is not None
    make_patient(session, store, phone="+12025550143", anchor_date=dt.date(2026, 12, 14))
    session.commit()
    fake = ClockedFake()
    assert tick(app, fake, ny(2026, 12, 10, 11, 0)).created == 0  # anchor - 4 days
    assert tick(app, fake, ny(2026, 12, 11, 9, 30)).created == 1  # anchor - 3, before 10:00
    assert fake.contacts == []
    tick(app, fake, ny(2026, 12, 11, 10, 0))
    assert [(c.at, s.validity_period) for c, s in zip(fake.contacts, fake.sent, strict=True)] == [
        (ny(2026, 12, 11, 10, 0), 2 * 3600)
    ]
