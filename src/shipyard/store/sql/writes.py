"""The writes of SqlStore that need each database's dialect: upserts and bulk inserts."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from shipyard.entities import now_ms
from shipyard.errors import ConflictError
from shipyard.store.sql import checks
from shipyard.store.sql import tables as t

_METRIC_COLUMNS = '"run_id", "key", "value", "is_nan", "step", "timestamp"'
_COPY_METRICS = f"COPY metrics ({_METRIC_COLUMNS}) FROM STDIN"
_INSERT_METRICS = f"INSERT INTO metrics ({_METRIC_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"


def insert_stmt(conn: sa.Connection, table: sa.Table) -> Any:
    """An INSERT that knows ON CONFLICT in this database's dialect."""
    if conn.dialect.name == "postgresql":
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


def claim_idempotency_key(conn: sa.Connection, key: str) -> bool:
    """Record the key; False when a batch with it was applied (or is being applied)."""
    stmt = insert_stmt(conn, t.idempotency_keys).values(key=key, created_at=now_ms())
    stmt = stmt.on_conflict_do_nothing(index_elements=["key"])
    return conn.execute(stmt.returning(t.idempotency_keys.c.key)).first() is not None


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


def insert_metrics(conn: sa.Connection, run_id: str, points: list[checks.Point]) -> None:
    """Append the points to the history and move each key's latest point forward.

    NaN is stored as value NULL with ``is_nan`` true; the latest point of a key
    is the one with the greatest (step, timestamp), whatever order it came in.
    """
    rows = []
    latest: dict[str, tuple[Any, ...]] = {}
    for key, value, step, timestamp in points:
        nan = value != value
        row = (run_id, key, None if nan else value, nan, step, timestamp)
        rows.append(row)
        best = latest.get(key)
        # Ties go to the later point of the batch.
        if best is None or (step, timestamp) >= (best[4], best[5]):
            latest[key] = row
    _bulk_insert_metrics(conn, rows)
    lm = t.latest_metrics
    stmt = insert_stmt(conn, lm)
    newer = sa.or_(
        stmt.excluded.step > lm.c.step,
        sa.and_(stmt.excluded.step == lm.c.step, stmt.excluded.timestamp >= lm.c.timestamp),
    )
    update = {c: stmt.excluded[c] for c in ("value", "is_nan", "step", "timestamp")}
    statement = stmt.on_conflict_do_update(
        index_elements=["run_id", "key"], set_=update, where=newer
    )
    names = ("run_id", "key", "value", "is_nan", "step", "timestamp")
    conn.execute(statement, [dict(zip(names, row, strict=True)) for row in latest.values()])


def _bulk_insert_metrics(conn: sa.Connection, rows: list[tuple[Any, ...]]) -> None:
    """The history rows by each driver's fastest path: COPY, or executemany of tuples."""
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor, cursor.copy(_COPY_METRICS) as copy:
            for row in rows:
                copy.write_row(row)
    else:
        conn.exec_driver_sql(_INSERT_METRICS, rows)
