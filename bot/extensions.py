"""Per-app resources (settings, database) and the request's transaction."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from bot.config import Settings
from store.db import Database

_KEY = "medsync"


class Resources:
    """What one app instance owns: its settings and its database."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)


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
