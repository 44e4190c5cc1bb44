"""Take the README's screenshots of the workspace with the real demo.

    .venv/bin/python -m tests.browser.screenshots [--out docs/screenshots]

Builds the real app on a new SQLite database in a temporary folder, loads the demo of
`flask --app wsgi demo` (bot/demo.py, through the real dialog code; tests/browser/real_demo.py),
serves it on 127.0.0.1 and photographs the main pages in headless Chromium at 1280x800.
Nothing is sent anywhere (the fake transport).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import create_app, fills
from bot.access import Staff
from bot.transports.fake import FakeTransport
from store import enrollments, migrate
from store.models import (
    ConsentMethod,
    ConsentState,
    Enrollment,
    FillState,
    Medicine,
    MedType,
    Patient,
    QueueItem,
    Service,
    User,
    utcnow,
)
from tests.browser import real_demo
from tests.browser.live import VIEWPORT, allow_plain_http, launch_chromium, serving
from tests.browser.real_demo import PHARMACIST, Demo, seed_demo
from tests.report_history import seed_november
from tests.workspace_helpers import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
ENV = {
    "SECRET_KEY": "screenshots",
    "MEDSYNC_TRANSPORT": "console",
    "PHARMACY_STORE_CODE": "main",
    "PHARMACY_NAME": "Main Street Pharmacy",
    "PHARMACY_PHONE": "+12025550199",
    "PHARMACY_TIMEZONE": "America/New_York",
    "LOG_LEVEL": "WARNING",
}


def shoot(page: Page, path: str, target: Path, *, full_page: bool = False) -> Path:
    page.goto(path)
    page.screenshot(path=str(target), full_page=full_page)
    return target


def add_enrollment_examples(session: Session, demo: Demo, today: dt.date) -> dict[str, int]:
    """A candidate to enroll, a household and a follow-up, a new import (SPEC 14),
    made the way the app makes them (bot/enrollment.py for the follow-up)."""
    james = demo.patients["D02"]
    ben = Patient(
        store_id=demo.store.id,
        external_id="C1042",
        first_name="Ben",
        last_name="Adeyemi",
        phone="+12025550181",
        birth_date=dt.date(1952, 4, 2),
        medicines=[
            Medicine(
                name=name,
                med_type=kind,
                days_supply=30,
                daily_dose=1.0,
                quantity=30,
                last_fill_date=today - dt.timedelta(days=ago),
            )
            for name, kind, ago in (
                ("Amlodipine 5 mg", MedType.MAINTENANCE, 21),
                ("Atorvastatin 20 mg", MedType.MAINTENANCE, 12),
                ("Lisinopril 10 mg", MedType.PRN, 4),
            )
        ],
        enrollment=Enrollment(anchor_date=today + dt.timedelta(days=20), cycle_days=30),
    )
    spouse = Patient(
        store_id=demo.store.id,
        external_id="P2207",
        first_name="Ruth",
        last_name=james.last_name,
        phone=james.phone,  # a household: one phone
        birth_date=dt.date(1953, 1, 19),
        consent_date=dt.date(2026, 1, 15),
        enrollment=Enrollment(anchor_date=james.enrollment.anchor_date, cycle_days=30),  # type: ignore[union-attr]
    )
    new = Patient(
        store_id=demo.store.id,
        external_id="P3310",
        first_name="Alma",
        last_name="Reyes",
        phone="+12025550182",
        birth_date=dt.date(1958, 10, 3),
        consent_date=today,
        consent_state=ConsentState.ACCEPTED,
        consent_method=ConsentMethod.IMPORT,
        needs_review=True,
        enrollment=Enrollment(anchor_date=today + dt.timedelta(days=12), cycle_days=30),
    )
    session.add_all([ben, spouse, new])
    session.flush()
    enrollments.add_follow_ups(
        session,
        store_id=demo.store.id,
        patient_id=james.id,
        services=[Service.MTM_CMR],
        note="Annual medication review, book for a Tuesday",
        by_id=None,
        now=utcnow(),
    )
    session.commit()
    return {"ben": ben.id, "james": james.id}


def hold_one_fill(session: Session, demo: Demo, day: dt.date) -> dt.date:
    """The fill day five days out (the demo's busiest: a check-in outcome of every kind), with
    one fill put on hold by a technician through the list's own rules (bot/fills.py)."""
    technician = session.scalars(select(User).where(User.email == real_demo.TECHNICIAN)).one()
    dave = demo.patients["D04"]
    assert dave.enrollment is not None and dave.enrollment.anchor_date == day
    result = fills.change_state(
        session,
        Staff.of(technician),
        dave.enrollment,
        day,
        FillState.ON_HOLD,
        "Pharmacist to talk about the missed evening doses first",
        utcnow(),
        actor="user",
    )
    assert result.ok, result.message
    session.commit()
    return day


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/screenshots.sqlite3"
        migrate.upgrade(url)
        app = create_app({**ENV, "DATABASE_URL": url})
        app.instance_path = tmp
        app.extensions["medsync"].transport = FakeTransport()
        allow_plain_http(app)
        with Session(app.extensions["medsync"].db.engine, expire_on_commit=False) as session:
            today = dt.date.today()
            # Mid-morning in New York, so the transcripts read like a working day.
            now = dt.datetime.combine(today, dt.time(16, 0), tzinfo=dt.UTC)
            demo = seed_demo(app, session, now)
            examples = add_enrollment_examples(session, demo, today)
            # A small store's daily limit, so the workload page shows a day over it.
            demo.store.daily_fill_limit = 4
            session.commit()
            fill_day = hold_one_fill(session, demo, today + dt.timedelta(days=5)).isoformat()
            renewal = session.get(QueueItem, demo.items["renewal_needed"])
            assert renewal is not None and renewal.medicine_id is not None
            prescriber = session.get(Medicine, renewal.medicine_id)
            assert prescriber is not None
            seed_november(session, demo.store)
            session.commit()
            pages = {
                "item": f"/items/{demo.items['med_change']}",
                "patient": f"/patients/{demo.patients['D03'].id}",
                "sheet": f"/renewals/print?prescriber={prescriber.prescriber_npi}",
            }
        with serving(app) as base_url, sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            context = browser.new_context(base_url=base_url, viewport=VIEWPORT)
            page = context.new_page()
            taken = [shoot(page, "/login", out / "login.png")]
            page.get_by_label("Email").fill(PHARMACIST)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/queue")
            taken.append(shoot(page, "/queue", out / "queue.png"))
            # The item page is the long one: actions on top, the whole transcript below.
            taken.append(shoot(page, pages["item"], out / "item.png", full_page=True))
            taken.append(shoot(page, "/upcoming", out / "upcoming.png"))
            taken.append(shoot(page, "/renewals", out / "renewals.png"))
            taken.append(shoot(page, pages["sheet"], out / "renewal-sheet.png", full_page=True))
            taken.append(shoot(page, "/workload", out / "workload.png"))
            taken.append(shoot(page, f"/fills?date={fill_day}", out / "fills.png"))
            fills_print = f"/fills/print?date={fill_day}"
            taken.append(shoot(page, fills_print, out / "fills-print.png", full_page=True))
            taken.append(shoot(page, pages["patient"], out / "patient.png"))
            taken.append(shoot(page, "/patients", out / "patients.png"))
            enroll = f"/patients/{examples['ben']}/enroll"
            taken.append(shoot(page, enroll, out / "enroll.png", full_page=True))
            enrollment = f"/patients/{examples['james']}/enrollment"
            taken.append(shoot(page, enrollment, out / "enrollment.png"))
            patient = f"/patients/{examples['james']}"
            page.goto(patient)
            page.locator("#enrollment").screenshot(path=str(out / "enrollment-panel.png"))
            taken.append(out / "enrollment-panel.png")
            # November 2026 of tests/report_history.py: a month with something in every table.
            november = "/reports?from=2026-11-01&to=2026-11-30"
            taken.append(shoot(page, november, out / "reports.png", full_page=True))
            browser.close()
        app.extensions["medsync"].db.dispose()
    for path in taken:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    main()
