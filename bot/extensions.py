"""Per-app resources (settings, database) and the request's transaction."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.transports import make_transport
from bot.transports.base import Transport
from store.db import Database

_KEY = "medsync"


class Resources:
    """What one app instance owns: its settings, its database and its sending transport."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        self._transport: Transport | None = None

    @property
    def transport(self) -> Transport:
        """Return the transport, built on first use (tests may set it beforehand)."""
        if self._transport is None:
            self._transport = make_transport(self.settings)
        return self._transport

    @transport.setter
    def transport(self, transport: Transport) -> None:
        self._transport = transport


def init_app(app: Flask, settings: Settings) -> None:
    """Attach the resources to `app` and close each request's session at teardown."""
    app.extensions[_KEY] = Resources(settings)
    app.teardown_appcontext(_close_session)


def resources() -> Resources:
    """Return the current app's resources."""
    res: Resources = current_app.extensions[_KEY]
    return res


def settings() -> Settings:
    return resources().settings


def db_session() -> Session:
    """Return this request's (or command's) session; it is rolled back unless committed."""
    if "db_session" not in g:
        g.db_session = resources().db.sessions()
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()
