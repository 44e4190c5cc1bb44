"""The engine and session factory. No Flask here: the web app and the scheduler each own
the lifecycle of their sessions (one transaction per request or job)."""

from __future__ import annotations

import fcntl
import os
import select
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the settings this service relies on for its backend."""
    parsed = make_url(url)
    # A statement's parameters are phone numbers and patients' words: a database error must
    # not carry them into a log (SQLAlchemy puts them in the exception's text otherwise).
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        connect_args: dict[str, Any] = {"timeout": 30}
        if parsed.database and parsed.database != ":memory:":
            connect_args["factory"] = _WriterLockedConnection
        kwargs.setdefault("connect_args", connect_args)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_immediate)
    elif parsed.get_backend_name() == "postgresql":
        # No JIT compilation: it pays off only for long analytic scans, and every statement
        # here is short. With stale statistics (a pass that has just written thousands of
        # messages) the planner's cost estimate passes jit_above_cost and each history read
        # of a batch spent 400 ms compiling for 3 ms of work (docs/benchmarks.md).
        server_args = dict(kwargs.pop("connect_args", {}))
        server_args["options"] = (server_args.get("options", "") + " -c jit=off").strip()
        engine = create_engine(url, connect_args=server_args, **kwargs)
        if "pool_pre_ping" not in kwargs:
            event.listen(engine, "checkout", _drop_if_closed_by_server)
    else:
        engine = create_engine(url, **kwargs)
    event.listen(engine, "handle_error", _drop_row_values)
    return engine


def _drop_row_values(context: ExceptionContext) -> None:
    """Keep only the first line of a driver's error message: what failed, not with what.

    PostgreSQL follows it with a DETAIL that repeats the values, "Failing row contains (...,
    +12025550143, ..., I stopped my metformin)" for a NOT NULL or CHECK violation, the key for a
    unique one. The exception's text is what every log prints (Flask's, the scheduler's), so it
    is cut here, once; the driver's structured diagnostics stay on the exception for code.
    """
    original = context.original_exception
    first_line = str(original).split("\n", 1)[0]
    original.args = (first_line,)
    wrapper = context.sqlalchemy_exception
    if wrapper is not None:
        kind = type(original)
        wrapper.args = (f"({kind.__module__}.{kind.__qualname__}) {first_line}",)


def _drop_if_closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Hand out a pooled PostgreSQL connection only if the server has not closed it.

    SQLAlchemy's `pool_pre_ping` asks with a `SELECT 1`: a round trip and a third of a
    webhook's client CPU here. An idle connection has nothing to read unless the server sent
    something, which for an idle session means it is going away (a restart, an idle timeout,
    `pg_terminate_backend`): a poll of its socket answers the same question locally. The pool
    replaces a connection refused here with a new one.
    """
    if dbapi_connection.closed or _readable(dbapi_connection.fileno()):
        raise exc.DisconnectionError("the server closed this connection")


def _readable(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see below).
    dbapi_connection.isolation_level = None
    # Foreign keys are off by default in SQLite; WAL lets readers work during a write.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # SQLite's recommendation for WAL: no fsync per commit (it is most of a webhook's time on
    # a slow disk). A crash of the app loses nothing; a power cut may lose the last commits.
    # Production runs on PostgreSQL, which keeps its own durable commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    # Take SQLite's write lock when a transaction starts, not at its first write. Two
    # transactions that read a conversation and then both write it would otherwise fail
    # with "database is locked" half-way; this way the second simply waits its turn.
    if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return  # each statement is its own transaction: nothing to hold
    dbapi_connection = connection.connection.dbapi_connection
    if isinstance(dbapi_connection, _WriterLockedConnection):
        dbapi_connection.wait_for_turn()
    # Straight to the driver: this runs for every transaction, and SQLAlchemy's statement
    # machinery (events, result set-up) costs ten times the BEGIN itself here.
    dbapi_connection.execute("BEGIN IMMEDIATE")


class _WriterLockedConnection(sqlite3.Connection):
    """A SQLite connection that queues for the write lock on a file lock.

    SQLite makes a waiting writer poll, sleeping up to 100 ms between tries; with several
    gunicorn workers that polling, not the work, sets the pace. A lock on a file beside the
    database, tried every millisecond, hands the turn over about a hundred times sooner, in
    every process that uses the file.
    """

    def __init__(self, database: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        self._lock_fd = os.open(f"{database}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
        self._holding = False

    def wait_for_turn(self, timeout: float = 30.0) -> None:
        """Wait until no other connection is in a transaction on this database.

        Polls every millisecond or so rather than blocking, so that a transaction left open
        somewhere turns into SQLite's usual "database is locked" after `timeout` instead of
        a hang.
        """
        if self._holding:
            return
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise sqlite3.OperationalError("database is locked") from None
                time.sleep(0.001)
            else:
                self._holding = True
                return

    def _release(self) -> None:
        if self._holding:
            self._holding = False
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release()
            os.close(self._lock_fd)


class Database:
    """An engine plus its session factory."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Yield a session whose work is committed on success and rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
