"""Shared by the benchmarks that load their own data: an empty, migrated database."""

from __future__ import annotations

from sqlalchemy import text

from store import migrate
from store.db import make_engine


def reset(url: str) -> None:
    """Empty the database at `url` and migrate it to the latest revision.

    PostgreSQL loses its whole public schema; a SQLite file is expected to be new.
    """
    engine = make_engine(url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    migrate.upgrade(url)
