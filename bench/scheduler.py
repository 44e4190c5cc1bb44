"""Benchmark a scheduler pass over many enrollments against a local Twilio stand-in.

    .venv/bin/python bench/scheduler.py [--enrollments 1000000] [--due 0.03]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/sched_bench]

1. Empties and migrates the database (default: a new SQLite file), then loads the store,
   patients and enrollments in bulk (COPY on PostgreSQL, executemany on SQLite). A fraction
   `--due` of them is anchored exactly lead days ahead (their check-in is due now), the rest
   between 9 and 300 days ahead.
2. Prints the query plans of the two due-row queries (check-in creation, due check-ins).
3. Starts bench/twilio_standin.py in its own process and runs `flask --app wsgi tick` in a
   fresh process against it (TWILIO_API_BASE_URL), measuring wall time and peak RSS.
   The child counts the SQL statements it runs (a `before_cursor_execute` listener).
4. In the same run, posts the same number of messages to the same stand-in with a bare
   `requests` loop (the baseline), and prints the ratio.

Everything stops by itself: each child has a timeout and the stand-in a --max-seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.fresh_db import reset  # noqa: E402
from store import checkins  # noqa: E402
from store.db import make_engine  # noqa: E402

ACCOUNT = "AC" + "b" * 32
STORE_NUMBER = "+12025550100"
# A Tuesday at 10:00 in New York: inside the default window.
NOW = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 12, 1)
TIMEOUT = 1800


def rows(count: int, due: float) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Return (patients, enrollments) rows; ids are 1..count."""
    rng = random.Random(7)
    now = NOW.isoformat()
    patients, enrollments = [], []
    for n in range(1, count + 1):
        days = 7 if rng.random() < due else rng.randint(9, 300)
        anchor = (TODAY + dt.timedelta(days=days)).isoformat()
        phone = f"+1202{n % 10_000_000:07d}"
        patients.append(
            (n, 1, f"P{n}", "Pat", f"Last{n}", phone, "en", "sms", "2026-01-01", False, now, now)
        )
        enrollments.append((n, n, anchor, 30, True, now))
    return patients, enrollments


PATIENT_COLUMNS = (
    "id, store_id, external_id, first_name, last_name, phone, language, channel,"
    " consent_date, phi_ok, created_at, updated_at"
)
ENROLLMENT_COLUMNS = "id, patient_id, anchor_date, cycle_days, active, created_at"


def load(url: str, count: int, due: float) -> float:
    """Insert the store, patients and enrollments; return seconds taken."""
    started = time.perf_counter()
    patients, enrollments = rows(count, due)
    store = (
        "INSERT INTO stores (id, code, name, phone, timezone, region, from_number,"
        " window_start_minute, window_end_minute, lead_days, reminder_delay_hours,"
        " unreachable_days, created_at) VALUES (1, 'main', 'Main Street Pharmacy',"
        f" '+12025550199', 'America/New_York', 'US', '{STORE_NUMBER}', 540, 1140, 7, 24, 3,"
        f" '{NOW.isoformat()}')"
    )
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text(store))
            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cursor.copy(f"COPY patients ({PATIENT_COLUMNS}) FROM STDIN") as copy:
                for row in patients:
                    copy.write_row(row)
            with cursor.copy(f"COPY enrollments ({ENROLLMENT_COLUMNS}) FROM STDIN") as copy:
                for row in enrollments:
                    copy.write_row(row)
            connection.execute(text("SELECT setval('patients_id_seq', :n)"), {"n": count})
            connection.execute(text("SELECT setval('enrollments_id_seq', :n)"), {"n": count})
            connection.execute(text("ANALYZE"))
        engine.dispose()
    else:
        database = parsed.database
        assert database is not None
        with sqlite3.connect(database) as connection:
            connection.execute(store.replace(NOW.isoformat(), "2026-12-01 15:00:00"))
            plain = "2026-12-01 15:00:00.000000"
            connection.executemany(
                f"INSERT INTO patients ({PATIENT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (r[:10] + (plain, plain) for r in patients),
            )
            connection.executemany(
                f"INSERT INTO enrollments ({ENROLLMENT_COLUMNS}) VALUES (?,?,?,?,?,?)",
                (r[:5] + (plain,) for r in enrollments),
            )
            connection.execute("ANALYZE")
    return time.perf_counter() - started


def plans(url: str) -> dict[str, str]:
    """Return the query plans of the check-in creation and due check-in queries."""
    from sqlalchemy import or_, select
    from sqlalchemy.orm import Session

    from store.models import OPEN_CHECKIN_STATUSES, Checkin, Enrollment, Patient, Store

    engine = make_engine(url)
    dialect = engine.dialect
    creation = (
        select(Enrollment.id, Patient.timezone, Store.lead_days)
        .join(Patient, Patient.id == Enrollment.patient_id)
        .join(Store, Store.id == Patient.store_id)
        .where(
            checkins.checkin_pending(),
            Enrollment.anchor_date >= TODAY - dt.timedelta(days=1),
            Enrollment.anchor_date <= TODAY + dt.timedelta(days=8),
            Enrollment.active.is_(True),
        )
        .order_by(Enrollment.anchor_date, Enrollment.id)
        .limit(200)
    )
    due = (  # the second (main) query of store.checkins.list_due_checkin_ids
        select(Checkin.id)
        .where(
            Checkin.status.in_(OPEN_CHECKIN_STATUSES),
            Checkin.next_attempt_at <= NOW,
            or_(Checkin.claimed_until.is_(None), Checkin.claimed_until < NOW),
        )
        .order_by(Checkin.next_attempt_at)
        .limit(200)
    )
    explain = "EXPLAIN" if dialect.name == "postgresql" else "EXPLAIN QUERY PLAN"
    result = {}
    with Session(engine) as session:
        for name, query in (("creation", creation), ("due", due)):
            sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            lines = session.execute(text(f"{explain} {sql}")).all()
            result[name] = "\n".join(str(line[-1]) for line in lines)
    engine.dispose()
    return result


def child_time_and_rss(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run `command` in a fresh process; return seconds, its peak RSS in MB and its output."""
    code = (
        "import resource, subprocess, sys, time;"
        "start = time.perf_counter();"
        f"out = subprocess.run({command!r}, check=True, capture_output=True, text=True,"
        f" timeout={TIMEOUT}).stdout;"
        "took = time.perf_counter() - start;"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024;"
        "print(repr((took, rss, out)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    took, rss, output = eval(out.stdout.strip().splitlines()[-1])  # noqa: S307 (our own repr)
    return float(took), float(rss), str(output)


BARE_LOOP = """
import sys, time, requests
base, count = sys.argv[1], int(sys.argv[2])
session = requests.Session()
session.auth = ("{account}", "token")
url = f"{{base}}/2010-04-01/Accounts/{account}/Messages.json"
for n in range(count):
    response = session.post(url, data={{"To": f"+1202{{n:07d}}", "From": "{sender}",
        "Body": "Hi Pat, this is Main Street Pharmacy about your refill.",
        "StatusCallback": "https://rx.example.org/twilio/sms/status", "ValidityPeriod": "14400"}},
        timeout=10)
    assert response.status_code == 201
"""


# `flask` with a count of the SQL statements every engine of the process runs (printed last).
COUNTED_FLASK = """
import sys
from sqlalchemy import event
from sqlalchemy.engine import Engine
from flask.cli import main
count = 0
def note(*args):
    global count
    count += 1
event.listen(Engine, "before_cursor_execute", note)
sys.argv = ["flask", *sys.argv[1:]]
try:
    main()
finally:
    print(f"SQL statements: {count}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enrollments", type=int, default=1_000_000)
    parser.add_argument("--due", type=float, default=0.03)
    parser.add_argument("--database-url")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=8, help="tick --workers")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        reset(url)
        loaded = load(url, args.enrollments, args.due)
        print(f"loaded {args.enrollments:,} enrollments in {loaded:.1f}s", flush=True)
        before = plans(url)
        standin = subprocess.Popen(
            [sys.executable, str(ROOT / "bench/twilio_standin.py"), "--port", str(args.port)]
            + ["--max-seconds", str(TIMEOUT)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert standin.stdout is not None
            standin.stdout.readline()  # "listening on ..."
            base = f"http://127.0.0.1:{args.port}"
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "SECRET_KEY": "bench",
                "MEDSYNC_TRANSPORT": "twilio",
                "TWILIO_ACCOUNT_SID": ACCOUNT,
                "TWILIO_AUTH_TOKEN": "token",
                "TWILIO_API_BASE_URL": base,
                "TWILIO_MESSAGES_PER_SECOND": "0",
                "PUBLIC_BASE_URL": "https://rx.example.org",
                "LOG_LEVEL": "WARNING",
            }
            tick = [sys.executable, "-c", COUNTED_FLASK, "--app", "wsgi", "tick", "--now"]
            command = [*tick, NOW.isoformat(), "--workers", str(args.workers)]
            seconds, rss, output = child_time_and_rss(command, env)
            sent = int(output.split("texts sent: ")[1].split()[0]) if "texts sent" in output else 0
            statements = int(output.split("SQL statements: ")[1].split()[0])
            loop = BARE_LOOP.format(account=ACCOUNT, sender=STORE_NUMBER)
            bare, bare_rss, _ = child_time_and_rss(
                [sys.executable, "-c", loop, base, str(max(sent, 1))], env
            )
            after = plans(url)
        finally:
            standin.terminate()
            standin.wait(30)
    result = {
        "database": make_url(url).get_backend_name(),
        "enrollments": args.enrollments,
        "texts_sent": sent,
        "workers": args.workers,
        "pass_seconds": round(seconds, 1),
        "statements": statements,
        "statements_per_text": round(statements / sent, 1) if sent else None,
        "bare_loop_seconds": round(bare, 1),
        "ratio_bare_over_pass": round(bare / seconds, 3) if seconds else None,
        "pass_peak_rss_mb": round(rss, 1),
        "bare_peak_rss_mb": round(bare_rss, 1),
        "tick_output": [line for line in output.strip().splitlines() if "SQL" not in line],
    }
    print(json.dumps(result, indent=2))
    print("\nplan, check-in creation (before the pass):\n" + before["creation"])
    print("\nplan, due check-ins (after the pass):\n" + after["due"])


if __name__ == "__main__":
    main()
