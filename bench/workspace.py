"""Benchmark the pharmacist workspace on a big queue: page and API latency, query plans.

    .venv/bin/python bench/workspace.py [--items 100000] [--messages 1000000] [--requests 200]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/ws_bench]
        [--pages item_page,item_page_earlier,patient_page]

1. Empties and migrates the database (default: a new SQLite file), then loads in bulk (COPY on
   PostgreSQL, executemany on SQLite): two stores, `--patients` patients, `--items` open or
   claimed queue items (90% in the store of the signed-in pharmacist, the worst case for one
   pharmacy; 5% claimed) and `--messages` messages, of which `--transcript` (500) belong to the
   patient whose item page is measured, so that page shows a full transcript.
2. Builds the real app (`bot.create_app`) on that database, signs a pharmacist in through the
   login form with the Flask test client (in process: no HTTP server, no network), and times
   `--requests` requests of each: GET /queue, GET /queue?kind=adherence, GET /api/queue (bearer
   token) and GET /items/<id> of the patient with the 500-message transcript (the page shows
   the latest 50), the previous page of that transcript (GET /items/<id>?before=..., the
   "Earlier messages" link) and GET /patients/<id>, after 10 untimed warm-up requests each.
   Every request does what it does in production, audit row included. `--pages` times only
   the named ones (the time budget is shared among those).
3. Captures the SQL that one GET /queue runs and prints its plans (PostgreSQL: EXPLAIN ANALYZE;
   SQLite: EXPLAIN QUERY PLAN).

Prints one JSON object at the end. Stops by itself: loops stop at `--max-seconds`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.fresh_db import reset  # noqa: E402
from store.db import make_engine  # noqa: E402

NOW = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
EMAIL = "bench@main.example"
KINDS = [
    ("med_change", 20),
    ("adherence", 20),
    ("prn_need", 25),
    ("health_change", 5),
    ("concern", 10),
    ("callback_request", 5),
    ("needs_human", 5),
    ("unreachable", 8),
    ("opted_out", 1),
    ("invalid_number", 1),
]
ENV = {
    "SECRET_KEY": "bench",
    "MEDSYNC_TRANSPORT": "console",
    "PHARMACY_STORE_CODE": "main",
    "PHARMACY_NAME": "Main Street Pharmacy",
    "PHARMACY_PHONE": "+12025550199",
    "PHARMACY_TIMEZONE": "America/New_York",
    "LOG_LEVEL": "WARNING",
}

PATIENT_COLUMNS = (
    "id, store_id, external_id, first_name, last_name, phone, language, channel,"
    " consent_date, phi_ok, created_at, updated_at"
)
ITEM_COLUMNS = (
    "id, store_id, patient_id, kind, priority, status, anchor_date, text, claimed_by_id,"
    " claimed_at, created_at"
)
MESSAGE_COLUMNS = (
    "id, store_id, patient_id, direction, channel, purpose, from_number, to_number, body,"
    " status, created_at, updated_at"
)
STORES = (
    "INSERT INTO stores (id, code, name, phone, timezone, region, from_number,"
    " window_start_minute, window_end_minute, lead_days, reminder_delay_hours,"
    " unreachable_days, created_at) VALUES"
    " (1, 'main', 'Main Street Pharmacy', '+12025550199', 'America/New_York', 'US',"
    " '+12025550100', 540, 1140, 7, 24, 3, :now),"
    " (2, 'east', 'East Side Pharmacy', '+12025550198', 'America/New_York', 'US',"
    " '+12025550101', 540, 1140, 7, 24, 3, :now)"
)


def _store_of(patient: int, patients: int) -> int:
    return 1 if patient <= patients * 9 // 10 else 2


def patient_rows(count: int, stamp: object) -> Iterator[tuple[object, ...]]:
    for n in range(1, count + 1):
        language = "es" if n % 5 == 0 else "en"
        yield (n, _store_of(n, count), f"P{n}", "Pat", f"Last{n}", f"+1202{n:07d}", language,
               "sms", "2026-01-01", False, stamp, stamp)  # fmt: skip


def item_rows(
    count: int, patients: int, stamp: Callable[[dt.datetime], object]
) -> Iterator[tuple[object, ...]]:
    """Open items (5% claimed by user 1) spread over patients and the next 30 fill days."""
    rng = random.Random(11)
    kinds = [kind for kind, weight in KINDS for _ in range(weight)]
    for n in range(1, count + 1):
        patient = 1 if n == 1 else rng.randint(2, patients)  # item 1: the measured item page
        kind = rng.choice(kinds)
        claimed = n % 20 == 0
        created = NOW - dt.timedelta(minutes=rng.randint(1, 60 * 24 * 14))
        yield (
            n,
            _store_of(patient, patients),
            patient,
            kind,
            1 if kind == "health_change" else 2,
            "claimed" if claimed else "open",
            (TODAY + dt.timedelta(days=rng.randint(-3, 30))).isoformat(),
            "my doctor changed my metformin to 1000 mg twice a day",
            1 if claimed else None,
            stamp(NOW) if claimed else None,
            stamp(created),
        )


def message_rows(
    count: int, patients: int, heavy: int, stamp: Callable[[dt.datetime], object]
) -> Iterator[tuple[object, ...]]:
    """`heavy` messages for patient 1 (the measured item page), the rest spread over others."""
    rng = random.Random(13)
    for n in range(1, count + 1):
        patient = 1 if n <= heavy else rng.randint(2, patients)
        inbound = n % 2 == 0
        created = stamp(NOW - dt.timedelta(minutes=count - n))
        phone = f"+1202{patient:07d}"
        yield (
            n,
            _store_of(patient, patients),
            patient,
            "inbound" if inbound else "outbound",
            "sms",
            None if inbound else "reply",
            phone if inbound else "+12025550100",
            "+12025550100" if inbound else phone,
            "yes, my doctor changed the dose last week"
            if inbound
            else "Main Street Pharmacy: Any missed doses, side effects, leftover pills or trouble"
            " taking them? Reply YES or NO.",
            "received" if inbound else "delivered",
            created,
            created,
        )


def _plain(moment: dt.datetime) -> str:
    """A UTC datetime as SQLite holds it (store.models.UTCDateTime)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def load(url: str, patients: int, items: int, messages: int, heavy: int) -> tuple[float, str]:
    """Insert the stores, the pharmacist, patients, queue items and messages; return the
    seconds taken and the pharmacist's API token."""
    started = time.perf_counter()
    postgres = make_url(url).get_backend_name() == "postgresql"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(STORES), {"now": NOW if postgres else _plain(NOW)})
    token = add_pharmacist(url)  # user 1, who has claimed some items
    stamp: Callable[[dt.datetime], object] = (lambda t: t) if postgres else _plain
    tables = [
        ("patients", PATIENT_COLUMNS, patient_rows(patients, stamp(NOW))),
        ("queue_items", ITEM_COLUMNS, item_rows(items, patients, stamp)),
        ("messages", MESSAGE_COLUMNS, message_rows(messages, patients, heavy, stamp)),
    ]
    with engine.begin() as connection:
        dbapi: Any = connection.connection.driver_connection
        cursor = dbapi.cursor()
        for table, columns, rows in tables:
            if postgres:
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                cursor.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
            else:
                marks = ",".join("?" * len(columns.split(",")))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
    with engine.connect() as connection:
        # As autovacuum would have left it: statistics, and the visibility map that lets
        # index-only scans skip the table.
        vacuum = "VACUUM ANALYZE" if postgres else "ANALYZE"
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text(vacuum))
    engine.dispose()
    return time.perf_counter() - started, token


# The index this benchmark proposes for store/models.py (not in the migrations): with
# --proposed-indexes it replaces migration 0004's index in the benchmark database only, to
# measure it. The queue's order is high priority first, then anchor date (SPEC 10); 0004's
# index has anchor date first, so it cannot give that order.
PROPOSED_INDEXES = [
    "DROP INDEX ix_queue_items_active_order",
    # The queue's order, active items only: a store's first page is the index's first rows.
    "CREATE INDEX ix_queue_items_active_order ON queue_items"
    " (store_id, priority, anchor_date, created_at, id) WHERE status IN ('open', 'claimed')",
]


def add_proposed_indexes(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        for statement in PROPOSED_INDEXES:
            connection.execute(text(statement))
    with engine.connect() as connection:
        vacuum = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text(vacuum))
    engine.dispose()


def add_pharmacist(url: str) -> str:
    """Create the pharmacist (user 1, store 1) and an API token; return the token."""
    from bot.security import hash_api_token, hash_password
    from store import staff
    from store.models import Role, Store
    from tests.workspace_helpers import PASSWORD

    engine = make_engine(url)
    with Session(engine) as session:
        store = session.get(Store, 1)
        assert store is not None
        user, _ = staff.upsert_user(
            session, EMAIL, Role.PHARMACIST, [store], hash_password(PASSWORD)
        )
        assert user.id == 1
        token = "msb_bench_token"
        staff.add_api_token(session, user, hash_api_token(token), token[:12])
        session.commit()
    engine.dispose()
    return token


def timings(
    call: Callable[[], Any], requests: int, deadline: float, warmup: int = 10
) -> dict[str, Any]:
    """Time `requests` calls after `warmup` untimed ones; stop early at `deadline`."""
    for _ in range(warmup):
        call()
    took = []
    for _ in range(requests):
        if time.monotonic() > deadline:
            break
        start = time.perf_counter()
        call()
        took.append((time.perf_counter() - start) * 1000)
    if len(took) < 2:
        return {"requests": len(took), "max_ms": round(max(took, default=0), 1)}
    cuts = statistics.quantiles(took, n=100, method="inclusive")
    return {
        "requests": len(took),
        "p50_ms": round(cuts[49], 1),
        "p95_ms": round(cuts[94], 1),
        "max_ms": round(max(took), 1),
    }


def capture_sql(engine: Any, call: Callable[[], Any]) -> list[tuple[str, Any]]:
    """Return the statements (and parameters) that `call` runs on `engine`."""
    seen: list[tuple[str, Any]] = []

    def remember(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", remember)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    return seen


def plans(engine: Any, statements: list[tuple[str, Any]]) -> list[dict[str, str]]:
    """EXPLAIN the queue's own queries (the ones reading queue_items) as they were run."""
    postgres = engine.dialect.name == "postgresql"
    explain = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)" if postgres else "EXPLAIN QUERY PLAN"
    result = []
    with engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()
        for statement, parameters in statements:
            if "FROM queue_items" not in statement or not statement.lstrip().startswith("SELECT"):
                continue
            cursor.execute(f"{explain} {statement}", parameters)
            lines = [str(row[-1]) for row in cursor.fetchall()]
            result.append({"sql": " ".join(statement.split()), "plan": "\n".join(lines)})
        cursor.close()
    return result


def measure(url: str, token: str, args: argparse.Namespace, tmp: str) -> dict[str, Any]:
    from bot import create_app
    from tests.workspace_helpers import StaffClient

    app = create_app({**ENV, "DATABASE_URL": url})
    app.instance_path = tmp
    me = StaffClient.signed_in(app, EMAIL)
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}

    def get(path: str) -> Callable[[], Any]:
        def call() -> None:
            response = me.get(path)
            assert response.status_code == 200, (path, response.status_code)

        return call

    def api_queue() -> None:
        response = api.get("/api/queue", headers=bearer)
        assert response.status_code == 200, response.status_code

    first = me.get("/queue").get_data(as_text=True)
    count = first.split('id="active-count"')[1].split(">")[1].split("<")[0]
    item_page = me.get("/items/1").get_data(as_text=True)
    transcript = item_page.count('<li class="')
    earlier = re.search(r'<a href="([^"]+)" rel="prev"', item_page)
    earlier_url = html.unescape(earlier.group(1)).split("#")[0] if earlier else "/items/1"
    calls = {
        "queue_page": get("/queue"),
        "queue_page_kind_filter": get("/queue?kind=adherence"),
        "api_queue": api_queue,
        "item_page": get("/items/1"),
        "item_page_earlier": get(earlier_url),
        "patient_page": get("/patients/1"),
    }
    if args.pages:
        calls = {name: calls[name] for name in args.pages.split(",")}
    results = {}
    for name, call in calls.items():  # each gets its share of the time
        deadline = time.monotonic() + args.max_seconds / len(calls)
        results[name] = timings(call, args.requests, deadline)
        print(f"{name:24} " + "  ".join(f"{k} {v}" for k, v in results[name].items()), flush=True)
    engine = app.extensions["medsync"].db.engine
    statements = capture_sql(engine, get("/queue"))
    app.extensions["medsync"].db.dispose()
    return {
        "active_count_on_page": count,
        "transcript_entries_on_item_page": transcript,
        "earlier_page": earlier_url,
        "latency": results,
        "queue_page_statements": len(statements),
        "plans": plans(make_engine(url), statements),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--patients", type=int, default=50_000)
    parser.add_argument("--transcript", type=int, default=500, help="messages on the item page")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url")
    parser.add_argument("--max-seconds", type=float, default=240, help="for all the timing")
    parser.add_argument(
        "--pages",
        help="comma-separated names of the pages to time (default: all): queue_page,"
        " queue_page_kind_filter, api_queue, item_page, item_page_earlier, patient_page",
    )
    parser.add_argument(
        "--proposed-indexes", action="store_true", help="add PROPOSED_INDEXES before timing"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        reset(url)
        loaded, token = load(url, args.patients, args.items, args.messages, args.transcript)
        print(
            f"loaded {args.items:,} items and {args.messages:,} messages in {loaded:.1f}s",
            flush=True,
        )
        if args.proposed_indexes:
            add_proposed_indexes(url)
        measured = measure(url, token, args, tmp)
    for plan in measured["plans"]:
        print(f"\n{plan['sql']}\n{plan['plan']}")
    result = {
        "database": make_url(url).get_backend_name(),
        "items": args.items,
        "messages": args.messages,
        "patients": args.patients,
        "load_seconds": round(loaded, 1),
        "proposed_indexes": args.proposed_indexes,
        **{k: v for k, v in measured.items() if k != "plans"},
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
