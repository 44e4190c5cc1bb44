"""Helpers for the scheduler tests: a clocked fake transport and a pass runner."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy.orm import Session

from bot import outreach
from bot.transports.base import Sender, SendResult
from bot.transports.fake import FakeTransport
from scheduler.jobs import PassReport, run_pass

URLS = outreach.Urls("http://localhost")
DEFAULTS = outreach.Defaults(store_code="main", sender=Sender(None, None))
NY = ZoneInfo("America/New_York")


def ny(*args: int) -> dt.datetime:
    """Return a New York wall-clock time as aware UTC."""
    return dt.datetime(*args, tzinfo=NY).astimezone(dt.UTC)


@dataclass(frozen=True)
class Contact:
    """One request the transport made, at the pass's clock."""

    at: dt.datetime
    kind: str  # "sms" or "call"
    to: str
    ok: bool


class ClockedFake(FakeTransport):
    """A FakeTransport that also notes the scheduler's clock of each request."""

    def __init__(self) -> None:
        super().__init__()
        self.now = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
        self.contacts: list[Contact] = []

    def send_sms(self, **kwargs) -> SendResult:  # type: ignore[no-untyped-def,override]
        result = super().send_sms(**kwargs)
        self.contacts.append(Contact(self.now, "sms", kwargs["to"], result.ok))
        return result

    def place_call(self, **kwargs) -> SendResult:  # type: ignore[no-untyped-def,override]
        result = super().place_call(**kwargs)
        self.contacts.append(Contact(self.now, "call", kwargs["to"], result.ok))
        return result

    def to(self, phone: str) -> list[Contact]:
        return [c for c in self.contacts if c.to == phone]


def sessions_of(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["medsync"].db.sessions


def tick(app: Flask, fake: ClockedFake, now: dt.datetime) -> PassReport:
    """Run one pass at `now` with the fake transport."""
    fake.now = now
    return run_pass(sessions_of(app), now, transport=fake, urls=URLS, defaults=DEFAULTS)


def walk(
    app: Flask, fake: ClockedFake, start: dt.datetime, end: dt.datetime, step: dt.timedelta
) -> list[PassReport]:
    """Run a pass every `step` from `start` until `end` (inclusive)."""
    reports = []
    now = start
    while now <= end:
        reports.append(tick(app, fake, now))
        now += step
    return reports


def fresh(app: Flask) -> Session:
    """Return a new session (the caller closes it)."""
    session: Session = sessions_of(app)()
    return session
