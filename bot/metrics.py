"""Prometheus metrics (SPEC 15): `GET /metrics` and the counters the code bumps.

What is measured, and nothing about any patient (no names, numbers, ids or words in any
label; the labels are channels, outcomes, route rules, kinds and statuses):

* `medsync_sends_total{channel, outcome}`: texts and calls handed to the transport, by what
  Twilio answered (bot/outreach/sending.py `record_send`, the one place every send ends);
* `medsync_replies_total{channel}`: patients' texts and call answers received;
* `medsync_webhook_seconds{route}`: time to answer each `/twilio/*` route (the URL rule, so
  `/twilio/voice/gather/<int:message_id>`, never an id);
* `medsync_scheduler_pass_seconds`, `medsync_scheduler_passes_total{result}`,
  `medsync_scheduler_last_pass_timestamp_seconds` and `medsync_scheduler_checkins_total{event}`
  (what each pass did: the counts of scheduler.jobs.PassReport);
* `medsync_queue_items{kind, status}`: open and claimed queue items, counted at scrape time.

Under gunicorn every worker has its own counters: with `PROMETHEUS_MULTIPROC_DIR` set (an
empty directory, the same for the web workers and the scheduler on that host) prometheus_client
keeps them in files there and `/metrics` adds up every process's (gunicorn.conf.py tells it
when a worker exits). Without it (one process: `flask run`, tests) they live in memory.

Access: `/metrics` exists only when `METRICS_TOKEN` is set, and answers only a request with
`Authorization: Bearer <METRICS_TOKEN>` (401 otherwise, 404 when no token is configured), so
it is never public by accident.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from bot.extensions import db_session, resources
from store.models import QueueItem, QueueKind, QueueStatus

# Our own registry: the default one would add this process's CPU and memory, which in
# multi-process mode describe only whichever worker answered the scrape.
REGISTRY = CollectorRegistry(auto_describe=True)

SENDS = Counter(
    "medsync_sends",
    "Texts and calls handed to the transport, by channel and outcome",
    ["channel", "outcome"],
    registry=REGISTRY,
)
REPLIES = Counter(
    "medsync_replies",
    "Patients' texts and call answers received, by channel",
    ["channel"],
    registry=REGISTRY,
)
WEBHOOK_SECONDS = Histogram(
    "medsync_webhook_seconds",
    "Time to answer a Twilio webhook, by route",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
PASS_SECONDS = Histogram(
    "medsync_scheduler_pass_seconds",
    "Duration of a scheduler pass",
    buckets=(0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0),
    registry=REGISTRY,
)
PASSES = Counter(
    "medsync_scheduler_passes",
    "Scheduler passes run, by result (ok or failed)",
    ["result"],
    registry=REGISTRY,
)
LAST_PASS = Gauge(
    "medsync_scheduler_last_pass_timestamp_seconds",
    "When the last scheduler pass finished (Unix time)",
    multiprocess_mode="max",
    registry=REGISTRY,
)
PASS_CHECKINS = Counter(
    "medsync_scheduler_checkins",
    "What scheduler passes did, by event (created, looked_at, texts, calls, unreachable...)",
    ["event"],
    registry=REGISTRY,
)

bp = Blueprint("metrics", __name__)


def count_send(channel: str, outcome: str) -> None:
    SENDS.labels(channel=channel, outcome=outcome).inc()


def count_reply(channel: str) -> None:
    REPLIES.labels(channel=channel).inc()


def observe_pass(seconds: float, counts: dict[str, int], *, failed: bool = False) -> None:
    """Record one scheduler pass: its duration, result and what it did."""
    PASS_SECONDS.observe(seconds)
    PASSES.labels(result="failed" if failed else "ok").inc()
    LAST_PASS.set(time.time())
    for event, count in counts.items():
        if count:
            PASS_CHECKINS.labels(event=event).inc(count)


class QueueDepth(Collector):
    """Open and claimed queue items by kind, read from the database at each scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "medsync_queue_items",
            "Queue items waiting for staff, by kind and status (open, claimed)",
            labels=["kind", "status"],
        )
        active = (QueueStatus.OPEN, QueueStatus.CLAIMED)
        counts = {(kind, status): 0 for kind in QueueKind for status in active}
        rows = db_session().execute(
            select(QueueItem.kind, QueueItem.status, func.count())
            .where(QueueItem.status.in_(active))
            .group_by(QueueItem.kind, QueueItem.status)
        )
        for kind, status, count in rows:
            counts[kind, status] = count
        for (kind, status), count in counts.items():
            family.add_metric([kind.value, status.value], count)
        yield family


def exposition() -> bytes:
    """Every process's metrics (multi-process mode) or this one's, and the queue depth."""
    queue = CollectorRegistry(auto_describe=False)
    queue.register(QueueDepth())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry(auto_describe=False)
        multiprocess.MultiProcessCollector(counted)  # type: ignore[no-untyped-call]
    else:
        counted = REGISTRY
    return generate_latest(counted) + generate_latest(queue)


@bp.get("/metrics")
def scrape() -> Any:
    expected = resources().settings.metrics_token
    if expected is None:
        return Response("Not found\n", 404, mimetype="text/plain")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), expected.encode()
    ):
        return Response(
            "A bearer token (METRICS_TOKEN) is required\n",
            401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    body = exposition()
    db_session().rollback()  # a read; end the transaction the queue count opened
    return Response(body, mimetype=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def _start_timer() -> None:
    if request.path.startswith("/twilio/"):
        g.metrics_started = time.perf_counter()


def _observe_webhook(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is not None:
        rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
        WEBHOOK_SECONDS.labels(route=rule).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(_start_timer)
    app.after_request(_observe_webhook)
