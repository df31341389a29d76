"""The SQLite plan of a metric-ordered search survives ``ANALYZE``.

With statistics, SQLite's planner used to drive the query from ``runs`` and sort
every run; the ordered ``(key, value)`` index must drive it, so a first page
stops early however many runs there are.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from shipyard.entities import ViewType
from shipyard.store.filter_language import And, parse_filter
from shipyard.store.sql import tables
from shipyard.store.sql.search import search_run_ids
from shipyard.store.sql.search_filter import selective_comparisons

# Enough that neither condition matches few enough runs for the IN-list form.
RUNS = 12_000
FILTER = "metrics.m1 > 0.5 and params.p1 = 'a'"


@pytest.fixture(scope="module")
def analyzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[sa.Engine, list[dict]]]:
    path: Path = tmp_path_factory.mktemp("plan") / "plan.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    tables.metadata.create_all(engine)
    rng = random.Random(3)
    runs, metrics, params = [], [], []
    for i in range(RUNS):
        run_id = f"{i:032x}"
        runs.append(
            {"id": run_id, "experiment_id": "e", "name": f"r{i}", "status": "FINISHED",
             "start_time": i, "end_time": None, "lifecycle_stage": "active",
             "parent_run_id": None, "user": None}
        )  # fmt: skip
        for key in ("m1", "m2"):
            metrics.append(
                {"run_id": run_id, "key": key, "value": rng.random(), "is_nan": False,
                 "step": 0, "timestamp": 0}
            )  # fmt: skip
        params.append({"run_id": run_id, "key": "p1", "value": rng.choice("ab")})
    with engine.begin() as conn:
        conn.execute(
            tables.experiments.insert(),
            {"id": "e", "name": "e", "lifecycle_stage": "active", "created_at": 0, "updated_at": 0},
        )
        conn.execute(tables.runs.insert(), runs)
        conn.execute(tables.latest_metrics.insert(), metrics)
        conn.execute(tables.params.insert(), params)
        conn.exec_driver_sql("ANALYZE")
    yield engine, metrics + params
    engine.dispose()


def test_the_ordered_index_drives_the_first_page(
    analyzed: tuple[sa.Engine, list[dict]],
) -> None:
    engine, _ = analyzed
    statements: list[tuple[str, object]] = []

    def capture(_c: object, _cur: object, statement: str, parameters: object, *_: object) -> None:
        if "first_order" in statement:
            statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        with engine.connect() as conn:
            search_run_ids(conn, ["e"], FILTER, ["metrics.m2 DESC"], ViewType.ACTIVE, 20, None)
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    statement, parameters = statements[0]
    with engine.connect() as conn:
        plan = [
            row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        ]
    assert "ix_latest_metrics_key_value" in plan[0] and "first_order" in plan[0], plan
    assert not any(step.startswith("SCAN runs") for step in plan), plan


def test_the_first_page_is_still_right(analyzed: tuple[sa.Engine, list[dict]]) -> None:
    engine, rows = analyzed
    m1 = {r["run_id"]: r["value"] for r in rows if r.get("key") == "m1"}
    m2 = {r["run_id"]: r["value"] for r in rows if r.get("key") == "m2"}
    p1 = {r["run_id"]: r["value"] for r in rows if r.get("key") == "p1"}
    expected = sorted((rid for rid in m1 if m1[rid] > 0.5 and p1[rid] == "a"), key=lambda r: -m2[r])
    with engine.connect() as conn:
        ids, token = search_run_ids(
            conn, ["e"], FILTER, ["metrics.m2 DESC"], ViewType.ACTIVE, 20, None
        )
    assert ids == expected[:20]
    assert token is not None


def test_a_term_becomes_a_list_only_when_building_it_beats_walking_the_order(
    analyzed: tuple[sa.Engine, list[dict]],
) -> None:
    engine, _ = analyzed
    # 12,000 runs: ~120 match m1 > 0.99 (a list is cheap), ~1,200 match m1 > 0.9
    # (a page of 100 turns up after walking ~1,000 runs in order: no list).
    rare, common = parse_filter("metrics.m1 > 0.99 and metrics.m1 > 0.9").terms
    with engine.connect() as conn:
        assert selective_comparisons(conn, And(rare, common)) == {rare}
