"""Turning rows into entities, loading related rows for a whole page at once.

A page of runs costs four queries (the runs, then their params, tags and
latest metrics with ``IN``), never a query per run.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from shipyard.entities import Experiment, LifecycleStage, Metric, Run, RunStatus
from shipyard.store.sql import tables as t

# Bind parameters per IN list: far below SQLite's and PostgreSQL's limits.
_CHUNK = 5000


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _key_values(
    conn: sa.Connection, table: sa.Table, owner: sa.Column[Any], ids: Sequence[str]
) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {owner_id: {} for owner_id in ids}
    for chunk in _chunks(ids):
        query = sa.select(owner, table.c.key, table.c.value).where(owner.in_(chunk))
        # .all() fetches in one call; iterating the result fetches row by row.
        for owner_id, key, value in conn.execute(query).all():
            found[owner_id][key] = value
    return found


def experiments_from_rows(conn: sa.Connection, rows: Sequence[sa.Row[Any]]) -> list[Experiment]:
    ids = [row.id for row in rows]
    tags = _key_values(conn, t.experiment_tags, t.experiment_tags.c.experiment_id, ids)
    return [
        Experiment(
            id=row.id,
            name=row.name,
            lifecycle_stage=LifecycleStage(row.lifecycle_stage),
            created_at=row.created_at,
            updated_at=row.updated_at,
            tags=tags[row.id],
        )
        for row in rows
    ]


def _latest_metrics(conn: sa.Connection, ids: Sequence[str]) -> dict[str, dict[str, Metric]]:
    found: dict[str, dict[str, Metric]] = {run_id: {} for run_id in ids}
    lm = t.latest_metrics
    for chunk in _chunks(ids):
        query = sa.select(
            lm.c.run_id, lm.c.key, lm.c.value, lm.c.is_nan, lm.c.step, lm.c.timestamp
        ).where(lm.c.run_id.in_(chunk))
        for run_id, key, value, is_nan, step, timestamp in conn.execute(query).all():
            found[run_id][key] = Metric(key, math.nan if is_nan else value, step, timestamp)
    return found


def runs_from_rows(conn: sa.Connection, rows: Sequence[sa.Row[Any]]) -> list[Run]:
    ids = [row.id for row in rows]
    params = _key_values(conn, t.params, t.params.c.run_id, ids)
    tags = _key_values(conn, t.tags, t.tags.c.run_id, ids)
    metrics = _latest_metrics(conn, ids)
    return [
        Run(
            id=row.id,
            experiment_id=row.experiment_id,
            name=row.name,
            status=RunStatus(row.status),
            start_time=row.start_time,
            end_time=row.end_time,
            lifecycle_stage=LifecycleStage(row.lifecycle_stage),
            parent_run_id=row.parent_run_id,
            user=row.user,
            params=params[row.id],
            tags=tags[row.id],
            metrics=metrics[row.id],
        )
        for row in rows
    ]


def load_runs(conn: sa.Connection, run_ids: Sequence[str]) -> list[Run]:
    """Runs with these ids, in the order given; ids not found are left out."""
    rows: dict[str, sa.Row[Any]] = {}
    for chunk in _chunks(run_ids):
        for row in conn.execute(sa.select(t.runs).where(t.runs.c.id.in_(chunk))):
            rows[row.id] = row
    ordered = [rows[run_id] for run_id in run_ids if run_id in rows]
    return runs_from_rows(conn, ordered)
