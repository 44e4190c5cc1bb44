"""Benchmark the inbound SMS webhook under gunicorn against a bare Flask TwiML endpoint.

Three servers run one after the other with the same gunicorn settings, loaded by the same wrk
script in the same run: the bare endpoint (bench/bare_app.py: no signature, no database), the
real webhook (wsgi:app), and the floor (bench/floor_app.py: the signature and the turn's
statements on the raw driver, no dialog). The result is the real webhook's requests per second
as a ratio of the bare one's (SPEC 11 goal: at least 0.5), the same for the floor (what any
implementation that commits a transaction per reply can reach on this machine), and the
webhook as a share of the floor, with p50/p99 latency. The real webhook does everything it does
in production: signature check, one database transaction with the patient row locked, the
dialog step, queue items, TwiML.

    .venv/bin/python bench/webhook.py [--database-url URL] [--patients 2000] [--seconds 15]
        [--rate 100 --rate-seconds 30]

After each server's saturation run, the same server is also loaded open-loop at a fixed rate
(bench/openloop.py, default 100 requests a second for 30 s) for its latency when it is not
saturated: SPEC 11's p99 at a steady rate, free of wrk's coordinated omission.

Needs wrk (`apt-get install wrk`). The default database is a fresh SQLite file; a PostgreSQL
URL is emptied and migrated first, filled, measured and emptied again (`db downgrade base`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AUTH_TOKEN = "bench-auth-token"
STORE_NUMBER = "+12025550100"

LUA = """
local requests = {}
for line in io.lines("%(requests)s") do
  local tab = string.find(line, "\t", 1, true)
  table.insert(requests, {string.sub(line, 1, tab - 1), string.sub(line, tab + 1)})
end
local threads, counter = {}, 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end
function init(args)
  n = id - 1
  step = %(threads)d
end
function request()
  n = n + step
  local r = requests[(n %% #requests) + 1]
  return wrk.format("POST", "/twilio/sms", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = r[2]}, r[1])
end
function done(summary, latency, requests_)
  io.write(string.format('RESULT {"requests": %%d, "seconds": %%f, "errors": %%d, ' ..
    '"non2xx": %%d, "p50_ms": %%f, "p99_ms": %%f}\\n',
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


# The webhook runs before the floor: the floor adds a counter to each conversation's state.
SERVERS = (
    ("bare", "bench.bare_app:app", "ba"),
    ("webhook", "wsgi:app", "be"),
    ("floor", "bench.floor_app:app", "fl"),
)


def seed(env: dict[str, str], patients: int) -> None:
    """Migrate and create a store with `patients` patients, each sent their first text."""
    os.environ.update(env)
    from bench.fresh_db import reset
    from bot import create_app, outreach
    from bot.extensions import db_session
    from bot.transports.base import Outcome, Sender
    from bot.transports.fake import FakeTransport
    from store.models import (
        Channel,
        Checkin,
        Enrollment,
        Patient,
        Purpose,
        Store,
    )

    reset(env["DATABASE_URL"])  # a run stopped half way leaves its rows behind
    app = create_app(env)
    with app.app_context():
        session = db_session()
        store = Store(
            code="main",
            name="Bench Pharmacy",
            phone="+12025550199",
            timezone="America/New_York",
            from_number=STORE_NUMBER,
        )
        session.add(store)
        session.flush()
        anchor = dt.date(2026, 12, 7)
        for n in range(patients):
            patient = Patient(
                store_id=store.id,
                external_id=f"B{n}",
                first_name="Pat",
                last_name=f"N{n}",
                phone=phone(n),
                channel=Channel.SMS,
                consent_date=dt.date(2026, 1, 5),  # without consent nobody is texted
            )
            patient.enrollment = Enrollment(anchor_date=anchor, cycle_days=30)
            session.add(patient)
            session.flush()
            session.add(
                Checkin(
                    enrollment_id=patient.enrollment.id,
                    patient_id=patient.id,
                    store_id=store.id,
                    anchor_date=anchor,
                )
            )
        session.commit()
        fake, now = FakeTransport(), dt.datetime.now(dt.UTC)
        urls = outreach.Urls(env["PUBLIC_BASE_URL"])
        defaults = outreach.Defaults("main", Sender(STORE_NUMBER))
        for checkin in session.query(Checkin).all():
            done = outreach.send_checkin_sms(
                session, checkin, Purpose.FIRST, now, transport=fake, urls=urls, defaults=defaults
            )
            if done.outcome is not Outcome.SENT:
                raise RuntimeError(f"the first text of check-in {checkin.id} was not sent")
    app.extensions["medsync"].db.dispose()


def phone(n: int) -> str:
    return f"+1202{5550000 + n:07d}"[:12]


def write_requests(
    path: Path, base: str, patients: int, count: int, tag: str = "be", first: int = 0
) -> None:
    """Precompute signed inbound SMS forms: patient n answers 'no', unique MessageSids.

    Each server gets its own `tag` in the SIDs: a server that stores messages must not meet
    SIDs another one stored (it would take the duplicate-delivery path instead).
    """
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(AUTH_TOKEN)
    url = base + "/twilio/sms"
    with path.open("w") as out:
        for i in range(count):
            form = {
                "MessageSid": f"SM{tag}{i:030x}",
                "AccountSid": "AC" + "0" * 32,
                "From": phone(first + i % patients),
                "To": STORE_NUMBER,
                "Body": "no",
                "NumMedia": "0",
                "SmsStatus": "received",
                "ApiVersion": "2010-04-01",
            }
            signature = validator.compute_signature(url, form)
            out.write(f"{urlencode(form)}\t{signature}\n")


def serve(app: str, port: int, env: dict[str, str], workers: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app,
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except OSError as error:
            if getattr(error, "code", None) == 404:  # the bare app has no /healthz: it is up
                return process
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{app} did not start")


def load(port: int, script: Path, seconds: int, connections: int, threads: int) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    line = next((x for x in out.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    result: dict[str, float] = json.loads(line.removeprefix("RESULT "))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def open_loop(base: str, path: Path, args: argparse.Namespace, tag: str) -> dict[str, float]:
    """Latency at a fixed rate (bench/openloop.py), not under saturation: fresh MessageSids,
    and patients of their own (seeded after wrk's), each answering their first text once."""
    count = int(args.rate * args.rate_seconds)
    write_requests(path, base, count, count, tag[0] + "o", first=args.patients)
    url = base + "/twilio/sms"
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "openloop.py"),
            url,
            str(path),
            "--rate",
            str(args.rate),
            "--seconds",
            str(args.rate_seconds),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(out.splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--rate", type=float, default=100.0, help="open-loop requests a second (0: skip)"
    )
    parser.add_argument("--rate-seconds", type=float, default=30.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = 8765
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DATABASE_URL": args.database_url or f"sqlite:///{tmp}/bench.sqlite3",
            "SECRET_KEY": "bench",
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "MEDSYNC_TRANSPORT": "console",
            "PUBLIC_BASE_URL": base,
            "LOG_LEVEL": "WARNING",
            "PHARMACY_PHONE": "+12025550199",
        }
        seed(env, args.patients + int(args.rate * args.rate_seconds))
        results = {}
        for name, app, tag in SERVERS:
            requests_file = Path(tmp) / f"{name}.tsv"
            write_requests(requests_file, base, args.patients, 200_000, tag)
            script = Path(tmp) / f"{name}.lua"
            script.write_text(LUA % {"requests": requests_file, "threads": args.threads})
            server = serve(app, port, env, args.workers)
            try:
                results[name] = load(port, script, args.seconds, args.connections, args.threads)
                if args.rate:
                    results[name]["open_loop"] = open_loop(
                        base, Path(tmp) / f"{name}-open.tsv", args, tag
                    )
            finally:
                server.terminate()
                server.wait()
        if args.database_url:
            subprocess.run(
                [sys.executable, "-m", "flask", "--app", "wsgi", "db", "downgrade", "base"],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
            )
    results["ratio"] = {
        "webhook/bare": results["webhook"]["rps"] / results["bare"]["rps"],
        "floor/bare": results["floor"]["rps"] / results["bare"]["rps"],
        "webhook/floor": results["webhook"]["rps"] / results["floor"]["rps"],
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
