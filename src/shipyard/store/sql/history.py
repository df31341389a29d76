"""Reading one metric's history, whole or downsampled for a chart.

Downsampling keeps the first and the last point and, in each bucket of
consecutive points between them (equal counts, so a history logged all at
step 0 downsamples as well as one with steps), the minimum and the maximum:
spikes survive, which an average or every n-th point would hide.

Both paths read raw tuples from the driver's cursor (no SQLAlchemy row
objects), and downsampling streams the rows bucket by bucket with C-level
min/max, so a million points never sit in Python at once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

from shipyard.entities import Metric
from shipyard.store.sql.tables import metrics

_ORDER = (metrics.c.step, metrics.c.timestamp, metrics.c.id)
# Sort keys that put NaN (value NULL) after every number, for min and for max.
_LOW_KEY = itemgetter(4)
_HIGH_KEY = itemgetter(5)


def _points_query(run_id: str, key: str) -> sa.Select[Any]:
    return (
        sa.select(metrics.c.step, metrics.c.timestamp, metrics.c.value, metrics.c.is_nan)
        .where(metrics.c.run_id == run_id, metrics.c.key == key)
        .order_by(*_ORDER)
    )


def _raw_cursor(conn: sa.Connection, query: sa.Select[Any]) -> Any:
    """Execute on the DBAPI cursor: rows come back as plain tuples."""
    compiled = query.compile(dialect=conn.dialect)
    params = compiled.construct_params()
    args: Any = params
    if compiled.positional:
        args = tuple(params[name] for name in compiled.positiontup or ())
    cursor = conn.connection.cursor()
    cursor.execute(str(compiled), args)
    return cursor


def _to_metrics(key: str, rows: Iterable[Any]) -> list[Metric]:
    nan = math.nan
    return [Metric(key, nan if row[3] else row[2], row[0], row[1]) for row in rows]


def full_history(conn: sa.Connection, run_id: str, key: str) -> list[Metric]:
    cursor = _raw_cursor(conn, _points_query(run_id, key))
    try:
        return _to_metrics(key, cursor.fetchall())
    finally:
        cursor.close()


def count_points(conn: sa.Connection, run_id: str, key: str) -> int:
    query = sa.select(sa.func.count()).where(metrics.c.run_id == run_id, metrics.c.key == key)
    return int(conn.execute(query).scalar_one())


def downsampled_history(
    conn: sa.Connection, run_id: str, key: str, max_points: int
) -> list[Metric]:
    """At most ``max_points`` points: first, last, and per bucket the min and max.

    Call inside one transaction with a stable snapshot: the count and the rows
    must agree.
    """
    total = count_points(conn, run_id, key)
    if total <= max_points:
        return full_history(conn, run_id, key)
    if max_points <= 2:
        return _ends(conn, run_id, key, max_points)
    # With room for 3 only, each bucket keeps its maximum alone.
    keep_min = max_points >= 4
    buckets = max(1, (max_points - 2) // 2)
    value = metrics.c.value
    query = _points_query(run_id, key).add_columns(
        sa.func.coalesce(value, sa.literal(math.inf, sa.Double)),
        sa.func.coalesce(value, sa.literal(-math.inf, sa.Double)),
    )
    cursor = _raw_cursor(conn, query)
    try:
        kept = _sample(cursor, total, buckets, keep_min)
    finally:
        cursor.close()
    return _to_metrics(key, kept)


def _ends(conn: sa.Connection, run_id: str, key: str, max_points: int) -> list[Metric]:
    """The last point, and with room for two the first one before it."""
    base = _points_query(run_id, key)
    last = conn.execute(base.order_by(None).order_by(*(c.desc() for c in _ORDER)).limit(1))
    ends = list(last)
    if max_points == 2:
        ends = [*conn.execute(base.limit(1)), *ends]
    return _to_metrics(key, ends)


def _sample(cursor: Any, total: int, buckets: int, keep_min: bool) -> list[Any]:
    first = cursor.fetchone()
    kept = [first]
    interior = total - 2
    start = 0
    for bucket in range(1, buckets + 1):
        end = bucket * interior // buckets
        rows = cursor.fetchmany(end - start) if end > start else []
        start = end
        if not rows:
            continue
        high = max(rows, key=_HIGH_KEY)
        low = min(rows, key=_LOW_KEY) if keep_min else high
        if low is high:
            kept.append(high)
        elif rows.index(low) < rows.index(high):
            kept.extend((low, high))
        else:
            kept.extend((high, low))
    rest = cursor.fetchall()  # the last point
    if rest:
        kept.append(rest[-1])
    return kept
