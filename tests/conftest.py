"""Shared fixtures: a migrated database (SQLite, or PostgreSQL via TEST_DATABASE_URL), the app,
its CLI runner, and small factories for the rows most tests need."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from bot import create_app
from store import migrate
from store.db import make_engine
from store.models import Base
from tests.twilio_helpers import TwilioPoster

TEST_ENV = {
    "SECRET_KEY": "test-secret-key",
    "MEDSYNC_TRANSPORT": "console",
    "TWILIO_AUTH_TOKEN": "test-auth-token",
    "PHARMACY_STORE_CODE": "main",
    "PHARMACY_NAME": "Main Street Pharmacy",
    "PHARMACY_PHONE": "+12025550143",
    "PHARMACY_TIMEZONE": "America/New_York",
    "LOG_LEVEL": "WARNING",
}


def _reset(engine: Engine) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        else:
            Base.metadata.drop_all(connection)
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of an empty database for this test run."""
    url = os.environ.get("TEST_DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    )
    engine = make_engine(url)
    _reset(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def migrated_url(database_url: str) -> str:
    """The test database, migrated to the latest revision once per run."""
    migrate.upgrade(database_url)
    return database_url


@pytest.fixture(scope="session")
def engine(migrated_url: str) -> Iterator[Engine]:
    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


def clean_tables(engine: Engine) -> None:
    """Empty every table, keeping the schema."""
    tables = list(reversed(Base.metadata.sorted_tables))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with its production cost takes ~0.1 s a hash; tests hash hundreds of times."""
    from argon2 import PasswordHasher

    from bot import security

    monkeypatch.setattr(
        security, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


@pytest.fixture
def app_env() -> dict[str, str]:
    """The settings of the `app` fixture; override it to test another mode (demo, say)."""
    return TEST_ENV


@pytest.fixture
def app(
    engine: Engine, migrated_url: str, tmp_path: Path, app_env: dict[str, str]
) -> Iterator[Flask]:
    clean_tables(engine)
    app = create_app({**app_env, "DATABASE_URL": migrated_url}, TESTING=True)
    app.instance_path = str(tmp_path / "instance")
    yield app
    app.extensions["medsync"].db.dispose()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def on_postgres(migrated_url: str) -> bool:
    return migrated_url.startswith("postgresql")


CHROMIUM = Path("/usr/bin/chromium")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip browser tests when Chromium is missing, unless CI requires them; skip
    PostgreSQL-only tests on SQLite."""
    if not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set TEST_DATABASE_URL)")
        for item in items:
            if "postgres_only" in item.keywords:
                item.add_marker(skip_pg)
    if CHROMIUM.exists() or os.environ.get("MEDSYNC_REQUIRE_BROWSER") == "1":
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not installed (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session of the app's database for the test itself (it commits as it needs).

    Deliberately not the request session and not inside an app context: a pushed app context
    would be shared by the test client's requests, and with it `g` (the request's session,
    the logged-in user, the CSRF token), which no real request ever shares.
    """
    # Autocommit: each statement sees the latest data and holds no lock while requests run.
    engine = app.extensions["medsync"].db.engine.execution_options(isolation_level="AUTOCOMMIT")
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def twilio(app: Flask) -> TwilioPoster:
    """Posts Twilio-shaped, correctly signed forms to the webhooks."""
    return TwilioPoster(app)
