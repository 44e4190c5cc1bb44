"""Benchmark the fill-day list at a big chain store's heaviest day: page and API latency.

    .venv/bin/python bench/fill_day.py [--patients 2000] [--requests 40] [--no-gc-freeze]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/fill_bench]

1. Empties and migrates the database (default: a new SQLite file), then loads, with the ORM,
   `--patients` patients all anchored on one day, each with three maintenance medicines (one
   due, one to short-fill, one whole package not due) and an inhaler (PRN), a check-in of
   every status in turn, an open item for one patient in five (a medication change for one in
   ten: their medicines are on hold) and a fill row for one in three.
   Then ANALYZE (planner statistics, as autovacuum would gather them).
2. Builds the real app (`bot.create_app`) and, as wsgi.py does, freezes its startup objects
   out of the collector's way (`--no-gc-freeze`: not); signs a technician in through the
   login form (Flask test client, in process) and times `--requests` requests of each, after
   3 untimed warm-up requests: GET /fills?date= (the page), GET /api/fills?date= (bearer
   token), and the baseline in the same run: GET /fills for a day nobody is due (the same
   request with no rows: login, audit, layout), whose p95 the others are also given as a
   ratio of.
3. Counts the SQL statements of one GET /api/fills (the same for any number of rows).

Prints one JSON object. Target: p95 under 200 ms for the page and the API on both databases.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.fresh_db import reset  # noqa: E402
from store.db import make_engine  # noqa: E402

DAY = dt.date(2026, 12, 7)
EMAIL = "tech@main.example"
ENV = {
    "SECRET_KEY": "bench",
    "MEDSYNC_TRANSPORT": "console",
    "PHARMACY_STORE_CODE": "main",
    "PHARMACY_NAME": "Main Street Pharmacy",
    "PHARMACY_PHONE": "+12025550199",
    "PHARMACY_TIMEZONE": "America/New_York",
    "LOG_LEVEL": "WARNING",
}


def load(url: str, patients: int) -> str:
    """Fill the database; return an API token for the technician."""
    from bot.security import hash_password
    from store.models import (
        Checkin,
        CheckinStatus,
        Enrollment,
        Fill,
        FillState,
        Medicine,
        MedType,
        Package,
        Patient,
        QueueItem,
        QueueKind,
        Role,
        Store,
    )
    from tests.workspace_helpers import make_user

    engine = make_engine(url)
    statuses = list(CheckinStatus)
    with Session(engine) as session:
        store = Store(
            code="main",
            name="Main Street Pharmacy",
            phone="+12025550199",
            timezone="America/New_York",
            from_number="+12025550100",
        )
        session.add(store)
        session.flush()
        for n in range(patients):
            patient = Patient(
                store_id=store.id,
                external_id=f"P{n}",
                first_name=f"First{n}",
                last_name=f"Last{n % 300}",
                phone=f"+1202{5550000 + n:07d}",
                consent_date=dt.date(2026, 1, 2),
                birth_date=dt.date(1950, 1, 1),
            )
            patient.enrollment = Enrollment(anchor_date=DAY, cycle_days=30)
            patient.medicines = [
                Medicine(
                    name="Metformin 500 mg",
                    med_type=MedType.MAINTENANCE,
                    days_supply=30,
                    last_fill_date=DAY - dt.timedelta(days=30),
                    refills_remaining=n % 4,
                ),
                Medicine(
                    name="Lisinopril 10 mg",
                    med_type=MedType.MAINTENANCE,
                    days_supply=30,
                    quantity=30,
                    daily_dose=1,
                    last_fill_date=DAY - dt.timedelta(days=20),
                ),
                Medicine(
                    name="Insulin pen",
                    med_type=MedType.MAINTENANCE,
                    days_supply=30,
                    last_fill_date=DAY - dt.timedelta(days=25),
                    package=Package.WHOLE,
                ),
                Medicine(name="Albuterol HFA", med_type=MedType.PRN),
            ]
            session.add(patient)
            if n % 500 == 499:
                session.flush()
        session.flush()
        rows = session.query(Patient).all()
        for n, patient in enumerate(rows):
            assert patient.enrollment is not None
            checkin = Checkin(
                enrollment_id=patient.enrollment.id,
                patient_id=patient.id,
                store_id=store.id,
                anchor_date=DAY,
                status=statuses[n % len(statuses)],
                topics={"med_change": "reported"} if n % 10 == 0 else None,
            )
            session.add(checkin)
            session.flush() if n % 500 == 499 else None
        session.flush()
        for n, checkin in enumerate(session.query(Checkin).order_by(Checkin.id).all()):
            if n % 5 == 0:
                kind = QueueKind.MED_CHANGE if n % 10 == 0 else QueueKind.PRN_NEED
                session.add(
                    QueueItem(
                        store_id=store.id,
                        patient_id=checkin.patient_id,
                        checkin_id=checkin.id,
                        kind=kind,
                        anchor_date=DAY,
                        text="I stopped one of my pills",
                    )
                )
            if n % 3 == 0:
                session.add(
                    Fill(
                        store_id=store.id,
                        patient_id=checkin.patient_id,
                        enrollment_id=checkin.enrollment_id,
                        checkin_id=checkin.id,
                        anchor_date=DAY,
                        state=FillState.PREPARED,
                    )
                )
        from store import staff

        staff.upsert_user(
            session, EMAIL, Role.TECHNICIAN, [store], hash_password("bench password 1")
        )
        token = make_user(session, "api@main.example", Role.TECHNICIAN, store)
        session.commit()
    with engine.begin() as connection:
        # Planner statistics, as autovacuum gathers them after a load (it is off on some
        # servers, this shared one included): without them PostgreSQL guesses one row per
        # table and joins 2,000 enrollments to 2,000 patients by nested loop (~400 ms a
        # statement here).
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    return token


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def time_it(call: Callable[[], None], requests: int) -> dict[str, float]:
    for _ in range(3):
        call()
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return {
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(_p(times, 0.95), 1),
        "max_ms": round(max(times), 1),
    }


def measure(url: str, token: str, requests: int, tmp: str, *, freeze: bool) -> dict[str, Any]:
    from bot import create_app
    from tests.workspace_helpers import StaffClient

    app = create_app({**ENV, "DATABASE_URL": url})
    app.instance_path = tmp
    if freeze:
        gc.freeze()  # as wsgi.py does once the app is built
    me = StaffClient.signed_in(app, EMAIL, "bench password 1")
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}

    def page(day: dt.date) -> Callable[[], None]:
        def call() -> None:
            answer = me.get(f"/fills?date={day}")
            assert answer.status_code == 200, answer.status_code

        return call

    def api_fills() -> None:
        answer = api.get(f"/api/fills?date={DAY}", headers=bearer)
        assert answer.status_code == 200, answer.status_code

    rows = len(api.get(f"/api/fills?date={DAY}", headers=bearer).get_json()["items"])
    statements: list[str] = []
    engine = app.extensions["medsync"].db.engine
    listen = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen)
    api_fills()
    event.remove(engine, "before_cursor_execute", listen)
    baseline = time_it(page(DAY + dt.timedelta(days=100)), requests)
    results = {"page": time_it(page(DAY), requests), "api": time_it(api_fills, requests)}
    for name in results:
        results[name]["p95_vs_baseline"] = round(results[name]["p95_ms"] / baseline["p95_ms"], 1)
    app.extensions["medsync"].db.dispose()
    return {
        "rows": rows,
        "statements_per_api_request": len(statements),
        "baseline_empty_day": baseline,
        **results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--database-url")
    parser.add_argument(
        "--no-gc-freeze",
        action="store_true",
        help="leave the app's startup objects to the collector (wsgi.py freezes them)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/fill_day.db"
        reset(url)
        started = time.perf_counter()
        token = load(url, args.patients)
        loaded = round(time.perf_counter() - started, 1)
        result = measure(url, token, args.requests, tmp, freeze=not args.no_gc_freeze)
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(
        json.dumps(
            {
                "database": dialect,
                "patients": args.patients,
                "gc_freeze": not args.no_gc_freeze,
                "load_seconds": loaded,
                **result,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
