"""Pooled connections the server closed are replaced, not handed out, and PostgreSQL
connections are set up for short statements (store/db.py)."""

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


def test_postgresql_connections_do_not_jit_compile(migrated_url: str) -> None:
    """Short statements only: JIT compiling cost 400 ms a batch read on stale statistics."""
    engine = make_engine(migrated_url, connect_args={"options": "-c statement_timeout=5000"})
    if engine.dialect.name != "postgresql":
        engine.dispose()
        pytest.skip("JIT is PostgreSQL's")
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("SHOW jit")) == "off"
            # Options of the caller's own are kept beside it.
            assert connection.scalar(text("SHOW statement_timeout")) == "5s"
    finally:
        engine.dispose()
