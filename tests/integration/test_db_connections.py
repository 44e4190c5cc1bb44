"""Pooled connections the server closed are replaced, not handed out (store/db.py)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from store.db import make_engine


def test_a_connection_the_server_terminated_is_replaced(migrated_url: str) -> None:
    engine = make_engine(migrated_url, pool_size=1, max_overflow=0)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        pytest.skip("SQLite has no server to close connections")
    try:
        with engine.connect() as connection:
            first = connection.scalar(text("SELECT pg_backend_pid()"))
        killer = make_engine(migrated_url)
        with killer.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            other.commit()
        killer.dispose()
        time.sleep(0.2)  # the terminated backend's goodbye reaches the pooled socket
        with engine.connect() as connection:  # the same pooled connection, checked first
            second = connection.scalar(text("SELECT pg_backend_pid()"))
        assert second != first
    finally:
        engine.dispose()
