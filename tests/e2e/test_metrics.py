"""GET /metrics after a whole SMS check-in (the real scheduler pass, signed webhooks), its
access rule, no patient data, and the counts of several processes added up."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from bot.transports.fake import FakeTransport
from scheduler.runner import run_once
from store.models import CheckinForm
from tests.conftest import TEST_ENV
from tests.factories import make_patient, make_store
from tests.twilio_helpers import TwilioPoster

TOKEN = "metrics-token-for-tests-0123456789"
NOW = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)  # 10:00 in New York, 7 days before
PATIENT = "+12025550143"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_env() -> dict[str, str]:
    return {**TEST_ENV, "METRICS_TOKEN": TOKEN}


def scrape(app: Flask) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_a_whole_sms_checkin_shows_in_the_counts(
    app: Flask, session: Session, twilio: TwilioPoster
) -> None:
    store = make_store(session, checkin_form=CheckinForm.QUICK)
    make_patient(session, store, phone=PATIENT)
    session.commit()
    before = scrape(app)

    fake = FakeTransport()
    report = run_once(app, NOW, transport=fake, workers=1)
    assert report.created == 1 and report.texts == 1
    (sent,) = fake.sent
    assert twilio.sms_status(sent.sid or "", "delivered").status_code == 204
    assert twilio.sms(PATIENT, "I stopped taking metformin").status_code == 200
    assert twilio.sms(PATIENT, "no").status_code == 200
    after = scrape(app)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("medsync_sends_total", channel="sms", outcome="sent") == 1
    assert grew("medsync_replies_total", channel="sms") == 2
    assert grew("medsync_webhook_seconds_count", route="/twilio/sms") == 2
    assert grew("medsync_webhook_seconds_count", route="/twilio/sms/status") == 1
    assert grew("medsync_scheduler_passes_total", result="ok") == 1
    assert grew("medsync_scheduler_pass_seconds_count") == 1
    assert grew("medsync_scheduler_checkins_total", event="created") == 1
    assert grew("medsync_scheduler_checkins_total", event="texts") == 1
    assert value(after, "medsync_scheduler_last_pass_timestamp_seconds") > 0
    # Counted at scrape time from the database: the medication change waits for a pharmacist.
    assert value(after, "medsync_queue_items", kind="med_change", status="open") == 1
    assert value(after, "medsync_queue_items", kind="adherence", status="open") == 0
    text = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert PATIENT not in text and PATIENT[2:] not in text and "metformin" not in text.lower()
    assert "Ana" not in text and "Lopez" not in text


def test_metrics_need_the_token(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": TOKEN}).status_code == 401


def test_without_a_token_configured_there_are_no_metrics(app: Flask) -> None:
    resources = app.extensions["medsync"]
    resources.settings = dataclasses.replace(resources.settings, metrics_token=None)
    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404


def test_a_short_token_is_refused_at_start() -> None:
    from bot.config import ConfigError, Settings

    with pytest.raises(ConfigError, match="METRICS_TOKEN"):
        Settings.from_env({**TEST_ENV, "METRICS_TOKEN": "short"}, "/tmp")


WORKER = """
from bot import metrics
metrics.count_send("sms", "sent")
metrics.count_send("voice", "failed")
metrics.count_reply("sms")
"""
READER = """
from prometheus_client import CollectorRegistry, generate_latest, multiprocess
registry = CollectorRegistry()
multiprocess.MultiProcessCollector(registry)
print(generate_latest(registry).decode())
"""


def test_several_processes_add_up_in_multiprocess_mode(tmp_path: Path) -> None:
    """Two "workers" count into PROMETHEUS_MULTIPROC_DIR; a third reads the sum."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", WORKER], env=env, cwd=ROOT, check=True)
    out = subprocess.run(
        [sys.executable, "-c", READER],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert 'medsync_sends_total{channel="sms",outcome="sent"} 2.0' in out
    assert 'medsync_sends_total{channel="voice",outcome="failed"} 2.0' in out
    assert 'medsync_replies_total{channel="sms"} 2.0' in out
