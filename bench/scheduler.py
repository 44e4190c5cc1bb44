"""Benchmark a scheduler pass over many enrollments against a local Twilio stand-in.

    .venv/bin/python bench/scheduler.py [--enrollments 1000000] [--due 0.03]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/sched_bench]

1. Empties and migrates the database (default: a new SQLite file), then loads the store,
   patients and enrollments in bulk (COPY on PostgreSQL, executemany on SQLite). A fraction
   `--due` of them is anchored exactly lead days ahead (their check-in is due now), the rest
   between 9 and 300 days ahead.
2. Prints the query plans of the two due-row queries (check-in creation, due check-ins).
3. Starts bench/twilio_standin.py in its own process and runs `flask --app wsgi tick` in a
   fresh process against it (TWILIO_API_BASE_URL), measuring wall time, CPU time and peak
   RSS.
   The child counts the SQL statements it runs (a `before_cursor_execute` listener).
4. In the same run, posts the same number of messages to the same stand-in with a bare
   `requests` loop (the baseline) and with a bare twilio-python loop (`Client.messages.create`
   through the transport's own `RebasedHttpClient`, so the SDK's share is visible), and prints
   the ratios.

`--profile` runs the pass in this process under cProfile instead (same data, same stand-in,
the real Twilio transport) and prints where its time goes, grouped by layer. With
BENCH_PYSPY_OUT=FILE the real tick process is recorded by py-spy instead (`pip install
py-spy`; a sampled profile of every thread, waits included, in py-spy's raw format;
BENCH_PYSPY_MODE=--gil samples only the thread holding the GIL: where the CPU goes).

Everything stops by itself: each child has a timeout and the stand-in a --max-seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
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
            (n, 1, f"P{n}", "Pat", f"Last{n}", phone, "en", "sms", "2026-01-01", False, False)
            + ("pickup", now, now)
        )
        enrollments.append((n, n, anchor, 30, True, now))
    return patients, enrollments


PATIENT_COLUMNS = (
    "id, store_id, external_id, first_name, last_name, phone, language, channel,"
    " consent_date, phi_ok, needs_review, delivery, created_at, updated_at"
)
ENROLLMENT_COLUMNS = "id, patient_id, anchor_date, cycle_days, active, created_at"


def load(url: str, count: int, due: float) -> float:
    """Insert the store, patients and enrollments; return seconds taken."""
    started = time.perf_counter()
    patients, enrollments = rows(count, due)
    store = (
        "INSERT INTO stores (id, code, name, phone, timezone, region, from_number,"
        " window_start_minute, window_end_minute, lead_days, reminder_delay_hours,"
        " unreachable_days, checkin_form, pickup_days, daily_fill_limit, enrollment_target,"
        " review_imports, created_at) VALUES (1, 'main', 'Main Street Pharmacy',"
        f" '+12025550199', 'America/New_York', 'US', '{STORE_NUMBER}', 540, 1140, 7, 24, 3,"
        f" 'quick', 5, 40, 100, false, '{NOW.isoformat()}')"
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
                f"INSERT INTO patients ({PATIENT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (r[:12] + (plain, plain) for r in patients),
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


def run_measured(command: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Run `command` in a fresh process; return its wall and CPU seconds (user + system), its
    peak RSS in MB and its output."""
    code = (
        "import resource, subprocess, sys, time;"
        "start = time.perf_counter();"
        f"out = subprocess.run({command!r}, check=True, capture_output=True, text=True,"
        f" timeout={TIMEOUT}).stdout;"
        "took = time.perf_counter() - start;"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN);"
        "rss = usage.ru_maxrss / 1024;"
        "print(repr((took, rss, out, usage.ru_utime + usage.ru_stime)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    took, rss, output, cpu = eval(out.stdout.strip().splitlines()[-1])  # noqa: S307 (our repr)
    return float(took), float(cpu), float(rss), str(output)


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


TWILIO_LOOP = """
import sys
sys.path.insert(0, {root!r})
from twilio.rest import Client
from bot.transports.twilio import RebasedHttpClient
base, count = sys.argv[1], int(sys.argv[2])
client = Client("{account}", "token", http_client=RebasedHttpClient(base, 10.0),
    environment={{"TWILIO_EDGE": "", "TWILIO_REGION": ""}})
for n in range(count):
    message = client.messages.create(to=f"+1202{{n:07d}}", from_="{sender}",
        body="Hi Pat, this is Main Street Pharmacy about your refill.",
        status_callback="https://rx.example.org/twilio/sms/status", validity_period=14400)
    assert message.sid
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


# Where a frame's own time (cProfile's tottime) is counted, by the file it runs in.
LAYERS = (
    ("sqlalchemy", "/sqlalchemy/"),
    ("database driver (sqlite3, psycopg)", ("sqlite3", "/psycopg/", "psycopg_")),
    ("twilio-python", "/twilio/"),
    (
        "requests, urllib3, http.client, socket",
        ("/requests/", "/urllib3/", "http/client", "socket", "ssl"),
    ),
    ("our code (bot, store, scheduler, dialogs)", ("/bot/", "/store/", "/scheduler/", "/dialogs/")),
    ("threads and locks (waiting)", ("threading", "concurrent/futures", "queue.py")),
)
# Calls whose cumulative time says where the per-check-in time goes.
MARKERS = (
    "run_pass",
    "work_due_checkins",
    "handle_checkin",
    "handle_batch",
    "lock_checkin",
    "lock_batch",
    "read_history",
    "read_histories",
    "send_checkin_sms",
    "send_sms",
    "create",  # twilio-python's MessageList.create
    "commit",
    "step",  # the dialog step
    "record_send",
    "gather_facts",
    "decide",
    "record",  # messages.record: INSERT the pending text
    "apply_step",
    "for_checkin",
    "lock_for_turn",
    "flush",
    "merge_environment_settings",  # requests reads the proxy variables on every request
    "record_batch",
    "send_batch",
    "settle_batch",
)


def layer_of(filename: str, function: str) -> str:
    if filename == "~":  # a C function: what it waits for is in its name
        if ("lock" in function and "acquire" in function) or "flock" in function:
            return "threads and locks (waiting)"
        if "sqlite3" in function or "psycopg" in function:
            return "database driver (sqlite3, psycopg)"
        if "socket" in function or "recv" in function or "send" in function:
            return "requests, urllib3, http.client, socket"
        return "builtins (C)"
    for name, parts in LAYERS:
        if any(part in filename for part in ((parts,) if isinstance(parts, str) else parts)):
            return name
    return "other Python (stdlib, json, zoneinfo, ...)"


def profile_pass(url: str, base: str, workers: int) -> str:
    """Run the pass in this process under cProfile; return a summary by layer and call."""
    import cProfile
    import pstats

    from bot import outreach
    from bot.transports.base import Sender
    from bot.transports.twilio import TwilioTransport
    from scheduler.jobs import run_pass
    from store.db import Database

    db = Database(url)
    transport = TwilioTransport(ACCOUNT, "token", api_base_url=base, messages_per_second=0)
    defaults = outreach.Defaults(store_code="main", sender=Sender(STORE_NUMBER))
    urls = outreach.Urls("https://rx.example.org")
    import threading

    # cProfile sees one thread; every thread the pass starts gets a profiler of its own.
    thread_profilers: list[cProfile.Profile] = []

    def profile_this_thread(*_: object) -> None:
        profiler = cProfile.Profile(time.thread_time)
        thread_profilers.append(profiler)
        profiler.enable()

    # CPU time of each thread (time.thread_time), not wall time: a thread waiting on the
    # network, a lock or the pool costs nothing here, so the layers add up to the CPU spent.
    profiler = cProfile.Profile(time.thread_time)
    threading.setprofile(profile_this_thread)
    started = time.perf_counter()
    profiler.enable()
    report = run_pass(
        db.sessions, NOW, transport=transport, urls=urls, defaults=defaults, workers=workers
    )
    profiler.disable()
    took = time.perf_counter() - started
    threading.setprofile(None)  # type: ignore[arg-type]
    db.dispose()
    stats = pstats.Stats(profiler, *thread_profilers)
    by_layer: dict[str, float] = {}
    marked: dict[str, tuple[int, float]] = {}
    total = 0.0
    for (filename, _, function), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        layer = layer_of(filename, function)
        by_layer[layer] = by_layer.get(layer, 0.0) + own
        total += own
        ours = "site-packages" not in filename and filename != "~"
        library = {
            "create": "twilio/rest/api/v2010/account/message",
            "commit": "orm/session.py",
            "flush": "orm/session.py",
            "merge_environment_settings": "requests/sessions.py",
        }.get(function)
        if function in MARKERS and (ours if library is None else library in filename):
            name = {"create": "twilio messages.create", "commit": "Session.commit"}.get(
                function, function
            )
            got = marked.get(name, (0, 0.0))
            marked[name] = (got[0] + calls, max(got[1], cumulative))
    texts = max(report.texts, 1)
    lines = [
        f"profiled pass: {report.texts} texts in {took:.2f} s wall under cProfile"
        f" ({took / texts * 1000:.2f} ms a text), workers={workers}",
        "own CPU time by layer (all threads):",
    ]
    for layer, own in sorted(by_layer.items(), key=lambda item: -item[1]):
        per_text = own / texts * 1000
        lines.append(f"  {own:7.2f} s  {own / total:5.1%}  {per_text:6.2f} ms/text  {layer}")
    lines.append("cumulative CPU time of the pass's calls:")
    for name, (calls, cumulative) in sorted(marked.items(), key=lambda item: -item[1][1]):
        per_text = cumulative / texts * 1000
        lines.append(f"  {cumulative:7.2f} s  {calls:7d} calls  {per_text:6.2f} ms/text  {name}")
    lines.append("the 12 functions with the most own CPU time:")
    ranked = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:12]  # type: ignore[attr-defined]
    for (filename, line, function), (_, calls, own, _, _) in ranked:
        where = "/".join(filename.split("/")[-2:])
        lines.append(f"  {own:7.2f} s  {calls:8d} calls  {function} ({where}:{line})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enrollments", type=int, default=1_000_000)
    parser.add_argument("--due", type=float, default=0.03)
    parser.add_argument("--database-url")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=8, help="tick --workers")
    parser.add_argument(
        "--profile", action="store_true", help="run the pass in-process under cProfile instead"
    )
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
            if args.profile:
                print(profile_pass(url, base, args.workers))
                return
            tick = [sys.executable, "-c", COUNTED_FLASK, "--app", "wsgi", "tick", "--now"]
            command = [*tick, NOW.isoformat(), "--workers", str(args.workers)]
            if os.environ.get("BENCH_PYSPY_OUT"):  # a sampled profile of the tick, waits included
                command = [
                    shutil.which("py-spy") or "py-spy",
                    "record",
                    os.environ.get("BENCH_PYSPY_MODE", "--idle"),
                    "--threads",
                    "--format",
                    "raw",
                    "-o",
                    os.environ["BENCH_PYSPY_OUT"],
                    "--",
                    *command,
                ]
            seconds, cpu, rss, output = run_measured(command, env)
            sent = int(output.split("texts sent: ")[1].split()[0]) if "texts sent" in output else 0
            statements = int(output.split("SQL statements: ")[1].split()[0])
            loop = BARE_LOOP.format(account=ACCOUNT, sender=STORE_NUMBER)
            bare, bare_cpu, bare_rss, _ = run_measured(
                [sys.executable, "-c", loop, base, str(max(sent, 1))], env
            )
            sdk_loop = TWILIO_LOOP.format(root=str(ROOT), account=ACCOUNT, sender=STORE_NUMBER)
            sdk, sdk_cpu, sdk_rss, _ = run_measured(
                [sys.executable, "-c", sdk_loop, base, str(max(sent, 1))], env
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
        "twilio_loop_seconds": round(sdk, 1),
        "ratio_twilio_loop_over_pass": round(sdk / seconds, 3) if seconds else None,
        "pass_per_text_ms": round(seconds / sent * 1000, 2) if sent else None,
        "bare_per_text_ms": round(bare / max(sent, 1) * 1000, 2),
        "twilio_loop_per_text_ms": round(sdk / max(sent, 1) * 1000, 2),
        "pass_cpu_seconds": round(cpu, 1),
        "bare_loop_cpu_seconds": round(bare_cpu, 1),
        "twilio_loop_cpu_seconds": round(sdk_cpu, 1),
        "pass_peak_rss_mb": round(rss, 1),
        "bare_peak_rss_mb": round(bare_rss, 1),
        "tick_output": [line for line in output.strip().splitlines() if "SQL" not in line],
    }
    print(json.dumps(result, indent=2))
    print("\nplan, check-in creation (before the pass):\n" + before["creation"])
    print("\nplan, due check-ins (after the pass):\n" + after["due"])


if __name__ == "__main__":
    main()
