"""Take the README's screenshots of the workspace with demo-like data.

    .venv/bin/python -m tests.browser.screenshots [--out docs/screenshots]

Builds the real app on a new SQLite database in a temporary folder, seeds it with
tests/browser/demo_data.py, serves it on 127.0.0.1 and photographs the main pages in headless
Chromium at 1280x800. Nothing is sent anywhere (the fake transport).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from sqlalchemy.orm import Session

from bot import create_app
from bot.transports.fake import FakeTransport
from store import migrate
from tests.browser.demo_data import PHARMACIST, seed_demo
from tests.browser.live import VIEWPORT, allow_plain_http, launch_chromium, serving
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
            demo = seed_demo(session, today, now)
            pages = {
                "item": f"/items/{demo.items['med_change']}",
                "patient": f"/patients/{demo.patients['james'].id}",
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
            taken.append(shoot(page, pages["patient"], out / "patient.png"))
            browser.close()
        app.extensions["medsync"].db.dispose()
    for path in taken:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    main()
