"""The writes of SqlStore that need each database's dialect: upserts and bulk inserts."""

from __future__ import annotations

import functools
import itertools
import math
import operator
import sqlite3
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from shipyard.entities import now_ms
from shipyard.errors import ConflictError
from shipyard.store.sql import checks
from shipyard.store.sql import tables as t

_METRIC_FIELDS = ("run_id", "key", "value", "is_nan", "step", "timestamp")
_METRIC_COLUMNS = ", ".join(f'"{name}"' for name in _METRIC_FIELDS)
_COPY_METRICS = f"COPY metrics ({_METRIC_COLUMNS}) FROM STDIN"
_INSERT_METRICS = f"INSERT INTO metrics ({_METRIC_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
# 1,000 rows of 6 parameters stay below SQLite's limit of 32,766 parameters per statement.
_ROWS_PER_INSERT = 1000 if sqlite3.sqlite_version_info >= (3, 32) else 150
_INSERT_METRIC_ROWS = f"INSERT INTO metrics ({_METRIC_COLUMNS}) VALUES " + ", ".join(
    ["(?, ?, ?, ?, ?, ?)"] * _ROWS_PER_INSERT
)


def insert_stmt(conn: sa.Connection, table: sa.Table) -> Any:
    """An INSERT that knows ON CONFLICT in this database's dialect."""
    return _insert_for(conn.dialect.name, table)


def _insert_for(dialect: str, table: sa.Table) -> Any:
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def upsert(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows, overwriting the non-key columns of rows already there."""
    if not rows:
        return
    keys = [c.name for c in table.primary_key.columns]
    stmt = insert_stmt(conn, table)
    update = {name: stmt.excluded[name] for name in rows[0] if name not in keys}
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=update), rows)


# Statements built once per dialect: building an upsert (its "excluded" columns
# above all) costs more than running it for a batch of a few points.
@functools.cache
def _claim_statement(dialect: str) -> Any:
    stmt = _insert_for(dialect, t.idempotency_keys).on_conflict_do_nothing(index_elements=["key"])
    return stmt.returning(t.idempotency_keys.c.key)


@functools.cache
def _latest_upsert(dialect: str) -> Any:
    """Move a key's latest point forward to a row of greater (step, timestamp), ties included."""
    lm = t.latest_metrics
    stmt = _insert_for(dialect, lm)
    newer = sa.or_(
        stmt.excluded.step > lm.c.step,
        sa.and_(stmt.excluded.step == lm.c.step, stmt.excluded.timestamp >= lm.c.timestamp),
    )
    update = {c: stmt.excluded[c] for c in ("value", "is_nan", "step", "timestamp")}
    return stmt.on_conflict_do_update(index_elements=["run_id", "key"], set_=update, where=newer)


def claim_idempotency_key(conn: sa.Connection, key: str) -> bool:
    """Record the key; False when a batch with it was applied (or is being applied)."""
    stmt = _claim_statement(conn.dialect.name)
    return conn.execute(stmt, {"key": key, "created_at": now_ms()}).first() is not None


def insert_params(conn: sa.Connection, run_id: str, values: dict[str, str]) -> None:
    # Insert what is new, then compare: race-free even when two writers log one key.
    stmt = insert_stmt(conn, t.params).on_conflict_do_nothing(index_elements=["run_id", "key"])
    conn.execute(stmt, [{"run_id": run_id, "key": k, "value": v} for k, v in values.items()])
    stored = conn.execute(
        sa.select(t.params.c.key, t.params.c.value).where(
            t.params.c.run_id == run_id, t.params.c.key.in_(list(values))
        )
    )
    for key, old in stored:
        if old != values[key]:
            raise ConflictError(
                f"param {key!r} of run {run_id!r} already has value {old!r}; "
                f"it cannot change to {values[key]!r}"
            )


def insert_metrics(conn: sa.Connection, run_id: str, points: checks.MetricColumns) -> None:
    """Append the points to the history and move each key's latest point forward.

    NaN is stored as value NULL with ``is_nan`` true; the latest point of a key
    is the one with the greatest (step, timestamp), whatever order it came in.
    """
    keys, values, steps, timestamps = points
    raw = conn.connection.driver_connection
    assert raw is not None
    if conn.dialect.name == "postgresql":
        _copy_metrics(raw, run_id, points)
    else:
        _insert_sqlite_metrics(raw, run_id, points)
    latest = [
        {
            "run_id": run_id,
            "key": keys[index],
            "value": None if values[index] != values[index] else values[index],
            "is_nan": values[index] != values[index],
            "step": steps[index],
            "timestamp": timestamps[index],
        }
        for index in _latest_indexes(points).values()
    ]
    conn.execute(_latest_upsert(conn.dialect.name), latest)


def _latest_indexes(points: checks.MetricColumns) -> dict[str, int]:
    """The index of each key's latest point: greatest (step, timestamp), ties to the later."""
    keys, _, steps, timestamps = points
    following = itertools.islice
    if all(map(operator.le, steps, following(steps, 1, None))) and all(
        map(operator.le, timestamps, following(timestamps, 1, None))
    ):
        # Points in order (the common case): each key's last one is its latest.
        return dict(zip(keys, range(len(keys)), strict=True))
    latest: dict[str, int] = {}
    for index, (key, step, timestamp) in enumerate(zip(keys, steps, timestamps, strict=True)):
        best = latest.get(key)
        if best is None or (step, timestamp) >= (steps[best], timestamps[best]):
            latest[key] = index
    return latest


def _insert_sqlite_metrics(raw: Any, run_id: str, points: checks.MetricColumns) -> None:
    """Rows of many points per INSERT: a quarter less CPU than one point per execution.

    The parameters are zipped and flattened from the columns in C, with no
    Python code per point; SQLite stores a bound NaN as NULL, the value column
    of a NaN point.
    """
    keys, values, steps, timestamps = points
    # The sum is NaN when a value is (or when +inf meets -inf): only then mark each point.
    is_nan: Iterable[bool] = (
        [value != value for value in values] if math.isnan(sum(values)) else itertools.repeat(False)
    )
    rows = zip(itertools.repeat(run_id), keys, values, is_nan, steps, timestamps)
    count = len(keys)
    whole = count - count % _ROWS_PER_INSERT
    cursor = raw.cursor()
    try:
        if whole:
            flat = list(itertools.chain.from_iterable(itertools.islice(rows, whole)))
            width = _ROWS_PER_INSERT * len(_METRIC_FIELDS)
            for offset in range(0, len(flat), width):
                cursor.execute(_INSERT_METRIC_ROWS, flat[offset : offset + width])
        cursor.executemany(_INSERT_METRICS, rows)  # the rest, one row at a time
    finally:
        cursor.close()


def _copy_metrics(raw: Any, run_id: str, points: checks.MetricColumns) -> None:
    with raw.cursor() as cursor, cursor.copy(_COPY_METRICS) as copy:
        for key, value, step, timestamp in zip(*points, strict=True):
            nan = value != value
            copy.write_row((run_id, key, None if nan else value, nan, step, timestamp))
