"""Alembic migrations: a fresh database lands at head and matches tables.py; an older
database is upgraded in place with its data intact."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from shipyard.entities import Metric, Param, RunStatus
from shipyard.store.sql import migrations
from shipyard.store.sql.engine import create_engine
from shipyard.store.sql.store import SqlStore
from tests.support.postgres import PostgresUnavailable, fresh_database, postgres_server

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database of each kind, just for this test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    try:
        with postgres_server() as admin_url, fresh_database(admin_url) as url:
            yield url
    except PostgresUnavailable as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(str(exc))


def revision_of(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return migrations.current_revision(conn)
    finally:
        engine.dispose()


def schema_diff_of(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return migrations.schema_diff(conn)
    finally:
        engine.dispose()


# What a database at revision 0001 held, written as plain SQL of that schema.
OLD_DATA = [
    "INSERT INTO experiments VALUES ('e1', 'mnist', 'active', 1000, 1000)",
    "INSERT INTO experiment_tags VALUES ('e1', 'team', 'vision')",
    "INSERT INTO runs VALUES "
    "('r1', 'e1', 'old-run', 'FINISHED', 1000, 2000, 'active', NULL, 'ada')",
    "INSERT INTO params VALUES ('r1', 'lr', '0.1')",
    "INSERT INTO tags VALUES ('r1', 'git.commit', 'abc123')",
    "INSERT INTO metrics (run_id, key, value, is_nan, step, timestamp) VALUES "
    "('r1', 'acc', 0.5, false, 0, 1100), ('r1', 'acc', 0.9, false, 1, 1200)",
    "INSERT INTO latest_metrics VALUES ('r1', 'acc', 0.9, false, 1, 1200)",
    "INSERT INTO artifacts VALUES ('r1', 'model/weights.bin', '" + "a" * 64 + "', 42)",
]


def test_an_old_database_is_upgraded_in_place_with_its_data(empty_url: str) -> None:
    engine = create_engine(empty_url)
    migrations.upgrade(engine, "0001")
    with engine.begin() as conn:
        for statement in OLD_DATA:
            conn.execute(sa.text(statement))
    engine.dispose()
    assert revision_of(empty_url) == "0001"
    assert schema_diff_of(empty_url) != []  # 0001 lacks the search indexes

    with SqlStore(empty_url) as store:
        experiment = store.get_experiment_by_name("mnist")
        run = store.get_run("r1")
        history = store.get_metric_history("r1", "acc")
        artifacts = store.list_artifacts("r1")
        # What 0002 added works on the old data.
        store.log_batch("r1", params=[Param("lr", "0.1")], idempotency_key="retry-1")
        store.log_batch("r1", metrics=[Metric("acc", 0.95, 2, 1300)], idempotency_key="retry-1")
        history_after = store.get_metric_history("r1", "acc")

    assert experiment.id == "e1" and experiment.tags == {"team": "vision"}
    assert (run.name, run.status, run.end_time, run.user) == (
        "old-run",
        RunStatus.FINISHED,
        2000,
        "ada",
    )
    assert run.params == {"lr": "0.1"}
    assert run.tags == {"git.commit": "abc123"}
    assert run.metrics["acc"] == Metric("acc", 0.9, 1, 1200)
    assert history == [Metric("acc", 0.5, 0, 1100), Metric("acc", 0.9, 1, 1200)]
    assert history_after == history  # the second batch reused the applied key
    assert [(a.path, a.size) for a in artifacts] == [("model/weights.bin", 42)]
    assert revision_of(empty_url) == migrations.head_revision()
    assert schema_diff_of(empty_url) == []


def test_a_fresh_database_is_created_at_head_and_matches_tables(empty_url: str) -> None:
    SqlStore(empty_url).close()
    assert revision_of(empty_url) == migrations.head_revision()
    assert schema_diff_of(empty_url) == []


def test_reopening_a_current_database_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db' / 'shipyard.db'}"  # the folder is made on open
    with SqlStore(url) as store:
        experiment = store.create_experiment("kept")
    with SqlStore(url) as store:
        assert store.get_experiment(experiment.id) == experiment
    assert revision_of(url) == migrations.head_revision()


def test_there_is_more_than_one_revision() -> None:
    # Upgrading in place is only tested for real while a revision follows 0001.
    assert migrations.head_revision() != "0001"


def test_the_head_constant_names_the_newest_script() -> None:
    # Opening a database compares against HEAD_REVISION without importing alembic.
    assert migrations.head_revision() == migrations.HEAD_REVISION


def test_opening_an_up_to_date_store_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    SqlStore(url).close()
    code = (
        "import sys; from shipyard.store.sql.store import SqlStore; "
        f"SqlStore({url!r}).close(); print('alembic' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
