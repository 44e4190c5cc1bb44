"""`flask demo`: a dozen patients on every path, made through the real dialog code."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from store.models import Checkin, Message, Patient, QueueItem
from tests.workspace_helpers import StaffClient


def test_it_loads_every_path_once_and_prints_a_working_login(
    app: Flask, runner: FlaskCliRunner, session: Session
) -> None:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    login = re.search(r"as (\S+@\S+) / (\S+)", result.output)
    # The app fixture is not in demo mode, so there is no simulator to point at.
    assert login is not None and "/dev/phone" not in result.output
    assert "only in demo mode (MEDSYNC_DEMO=1" in result.output
    kinds = set(session.scalars(select(QueueItem.kind)))
    assert {k.value for k in kinds} == {
        "med_change",
        "adherence",
        "prn_need",
        "health_change",
        "concern",
        "callback_request",
        "needs_human",
        "opted_out",
        "invalid_number",
        "unreachable",
    }
    statuses = {c.status.value for c in session.scalars(select(Checkin))}
    assert {
        "scheduled",
        "in_progress",
        "confirmed",
        "flagged",
        "opted_out",
        "unreachable",
    } <= statuses
    spanish = session.scalars(select(Patient).where(Patient.external_id == "D03")).one()
    bodies = session.scalars(select(Message.body).where(Message.patient_id == spanish.id)).all()
    assert any(body and "Gracias" in body for body in bodies)
    assert session.scalars(select(Patient).where(Patient.channel == "voice")).first() is not None
    assert (
        session.scalars(select(Patient).where(Patient.consent_date.is_(None))).first() is not None
    )
    count = session.scalar(select(func.count()).select_from(Patient))

    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0
    assert session.scalar(select(func.count()).select_from(Patient)) == count
    email, password = re.findall(r"as (\S+@\S+) / (\S+)", again.output)[0]
    StaffClient.signed_in(app, email, password)


def test_the_demo_texts_read_as_sent_not_queued_forever(
    runner: FlaskCliRunner, session: Session
) -> None:
    # The console transport "sends" by printing: no status callback will ever follow.
    assert runner.invoke(args=["demo"]).exit_code == 0
    statuses = set(
        session.scalars(
            select(Message.status).where(
                Message.direction == "outbound",
                Message.channel == "sms",
                Message.twilio_sid.is_not(None),
            )
        )
    )
    assert statuses and "queued" not in statuses
    assert "sent" in statuses


def test_in_demo_mode_it_points_at_the_phone_simulator(
    migrated_url: str, engine: Engine, tmp_path: Path
) -> None:
    from bot import create_app
    from tests.conftest import TEST_ENV, clean_tables

    clean_tables(engine)
    app = create_app({**TEST_ENV, "DATABASE_URL": migrated_url, "MEDSYNC_DEMO": "1"})
    app.instance_path = str(tmp_path)
    try:
        result = app.test_cli_runner().invoke(args=["demo"])
        assert result.exit_code == 0, result.output
        assert "patient phone:  http://127.0.0.1:5000/dev/phone" in result.output
        assert app.test_client().get("/dev/phone").status_code == 200
    finally:
        app.extensions["medsync"].db.dispose()
