"""Fixtures for the browser tests: one headless Chromium per run, the real app on a live
server per test (on the test database of `migrated_url`), and a fresh browser page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright

from bot.transports.fake import FakeTransport
from tests.browser.live import VIEWPORT, allow_plain_http, launch_chromium, serving
from tests.conftest import TEST_ENV


@pytest.fixture
def app_env() -> dict[str, str]:
    """The browser tests drive the app as `scripts/run.sh` serves it: in demo mode, where the
    patient phone simulator exists."""
    return {**TEST_ENV, "MEDSYNC_DEMO": "1"}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def fake_transport(app: Flask) -> FakeTransport:
    """What the app "sends" goes here instead of the console."""
    fake = FakeTransport()
    app.extensions["medsync"].transport = fake
    return fake


@pytest.fixture
def live_server(app: Flask, fake_transport: FakeTransport) -> Iterator[str]:
    """The app of the `app` fixture (bot.create_app on the test database), served over http
    on 127.0.0.1 and a free port; yields the base URL."""
    allow_plain_http(app)
    with serving(app) as base_url:
        yield base_url


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server, viewport=VIEWPORT)
    context.set_default_timeout(5_000)
    page = context.new_page()
    yield page
    context.close()
