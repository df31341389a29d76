"""Engines for the two databases SqlStore speaks: SQLite and PostgreSQL.

SQLite is set up for several processes writing one file at once: WAL journal
(readers never block the writer), a 30 s busy timeout, foreign keys on, and
``synchronous=NORMAL`` (durable at checkpoints, safe against corruption in WAL).
pysqlite's own transaction handling is switched off so that SQLAlchemy's
``begin`` really emits ``BEGIN``: a write transaction starts with
``BEGIN IMMEDIATE`` and takes the write lock up front, because a deferred
transaction that reads first cannot upgrade to a writer when another process
committed meanwhile (SQLite answers "database is locked" whatever the timeout).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, pool

from shipyard.errors import InvalidInputError
from shipyard.store.sqlite_wal import enable_wal

BUSY_TIMEOUT_MS = 30_000

# Execution option a write transaction sets before it begins.
_WRITE_OPTION = "shipyard_write"


def normalize_url(url: str) -> sa.URL:
    """Parse a database URL; plain ``postgresql://`` URLs get the psycopg 3 driver."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise InvalidInputError(f"not a database URL: {url!r}") from exc
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+pysqlite")
    raise InvalidInputError(f"unsupported database {backend!r}: use sqlite or postgresql")


def _is_memory(url: sa.URL) -> bool:
    return url.database in (None, "", ":memory:")


def create_engine(url: str) -> sa.Engine:
    """An engine for ``url`` configured for Shipyard's concurrency needs."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return sa.create_engine(
        parsed,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        pool_recycle=3600,
    )


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
    }
    if _is_memory(url):
        # One shared connection, else every checkout would see its own empty database.
        kwargs["poolclass"] = pool.StaticPool
    else:
        assert url.database is not None
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["poolclass"] = pool.QueuePool
        kwargs["pool_size"] = 8
        kwargs["max_overflow"] = 16
    engine = sa.create_engine(url, **kwargs)
    memory = _is_memory(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy's begin event emits BEGIN
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not memory:
                enable_wal(cursor, BUSY_TIMEOUT_MS / 1000)
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA cache_size = -32768")  # KiB: 32 MiB per connection at most
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        if conn.get_execution_options().get(_WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


@contextlib.contextmanager
def write_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A transaction that will write: on SQLite it holds the write lock from the start."""
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE_OPTION: True})
        with conn.begin():
            yield conn


@contextlib.contextmanager
def read_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A read-only transaction: one consistent snapshot for several queries."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn
