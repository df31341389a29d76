"""The distinct metric, param and tag keys of some experiments' active runs.

A plain ``SELECT DISTINCT key`` over the runs in scope reads every key row of
every run: millions of index entries with 100k runs. There are far fewer
distinct keys than runs, so this walks the keys instead (a loose index scan,
written as a recursive CTE since neither SQLite nor PostgreSQL skips through an
index on its own): each step jumps to the next greater key on the index that
leads with ``key`` (``ix_latest_metrics_key_value``; ``ix_params_key_*`` and
``ix_tags_key_*``), and keeps it when one of its rows belongs to a run in scope,
an ``EXISTS`` that stops at the first such row. The cost grows with the number
of distinct keys, not of runs; the outer ``LIMIT`` stops the walk at the cap.

That ``EXISTS`` walks a key's rows until one is in scope, which is slow for a
small experiment in a large store (its keys' rows are mostly other runs'). So
when the scope holds at most ``SMALL_SCOPE`` runs, the keys are read from those
runs instead (``ix_runs_experiment_start``, then each table's ``(run_id, key)``
primary key): at most ``SMALL_SCOPE`` runs' keys, whatever the store's size.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from shipyard.entities import LifecycleStage, RunKeys
from shipyard.store.sql import tables as t

__all__ = ["SMALL_SCOPE", "list_run_keys"]

SMALL_SCOPE = 5000


def _scope(experiment_ids: Sequence[str]) -> list[ColumnElement[bool]]:
    """Active runs of active experiments (of ``experiment_ids`` if any)."""
    active = LifecycleStage.ACTIVE.value
    runs = t.runs
    where: list[ColumnElement[bool]] = [
        runs.c.lifecycle_stage == active,
        runs.c.experiment_id.in_(
            sa.select(t.experiments.c.id).where(t.experiments.c.lifecycle_stage == active)
        ),
    ]
    if experiment_ids:
        where.append(runs.c.experiment_id.in_(sorted(set(experiment_ids))))
    return where


def _in_scope(run_id: ColumnElement[str], experiment_ids: Sequence[str]) -> ColumnElement[bool]:
    """``run_id`` names a run in scope."""
    runs = t.runs
    return sa.exists(
        sa.select(sa.literal(1))
        .select_from(runs)
        .where(runs.c.id == run_id, *_scope(experiment_ids))
    )


def _scope_is_small(conn: sa.Connection, experiment_ids: Sequence[str]) -> bool:
    some = sa.select(sa.literal(1)).where(*_scope(experiment_ids)).limit(SMALL_SCOPE + 1)
    count = conn.execute(sa.select(sa.func.count()).select_from(some.subquery())).scalar_one()
    return count <= SMALL_SCOPE


def _keys_of_runs(
    conn: sa.Connection, table: sa.Table, experiment_ids: Sequence[str], limit: int
) -> list[str]:
    query = (
        sa.select(table.c.key)
        .distinct()
        .select_from(t.runs.join(table, table.c.run_id == t.runs.c.id))
        .where(*_scope(experiment_ids))
        .order_by(table.c.key)
        .limit(limit)
    )
    return sorted(conn.execute(query).scalars())


def _keys(
    conn: sa.Connection, table: sa.Table, experiment_ids: Sequence[str], limit: int
) -> list[str]:
    key = table.c.key
    first = sa.select(key.label("key")).order_by(key).limit(1).subquery()
    walk = sa.select(first.c.key).cte(f"{table.name}_keys", recursive=True)
    after = sa.select(key).where(key > walk.c.key).order_by(key).limit(1).scalar_subquery()
    walk = walk.union_all(sa.select(after.label("key")).where(walk.c.key.is_not(None)))
    rows = table.alias(f"{table.name}_rows")
    used = sa.exists(
        sa.select(sa.literal(1))
        .select_from(rows)
        .where(rows.c.key == walk.c.key, _in_scope(rows.c.run_id, experiment_ids))
    )
    query = sa.select(walk.c.key).where(walk.c.key.is_not(None), used).limit(limit)
    # Sorted here: PostgreSQL's collation may order keys differently from SQLite.
    return sorted(conn.execute(query).scalars())


def list_run_keys(conn: sa.Connection, experiment_ids: Sequence[str], limit: int) -> RunKeys:
    """At most ``limit`` keys of each kind, sorted by code point."""
    keys = _keys_of_runs if _scope_is_small(conn, experiment_ids) else _keys
    return RunKeys(
        metrics=keys(conn, t.latest_metrics, experiment_ids, limit),
        params=keys(conn, t.params, experiment_ids, limit),
        tags=keys(conn, t.tags, experiment_ids, limit),
    )
