"""Revision 0004 (model registry): a database at 0003 with data upgrades in place with nothing
lost, lands at head matching the tables, and 0004 goes down and up again."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from shipyard.entities import LifecycleStage, Metric
from shipyard.store.hashing import hash_bytes
from shipyard.store.sql import migrations
from shipyard.store.sql.engine import create_engine
from shipyard.store.sql.store import SqlStore
from tests.support.postgres import PostgresUnavailable, fresh_database, postgres_server

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
MODEL_TABLES = {
    "registered_models",
    "registered_model_tags",
    "model_versions",
    "model_version_tags",
    "model_aliases",
    "alias_events",
    "evaluations",
    "promotion_decisions",
}
MANIFEST = hash_bytes(b"manifest of mnist v1")


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


# What a database at revision 0003 held, written as plain SQL of that schema.
DATA_0003 = [
    "INSERT INTO experiments VALUES ('e1', 'mnist', 'active', 1000, 1000)",
    "INSERT INTO runs VALUES "
    "('r1', 'e1', 'old-run', 'FINISHED', 1000, 2000, 'active', NULL, 'ada')",
    "INSERT INTO params VALUES ('r1', 'lr', '0.1')",
    "INSERT INTO metrics (run_id, key, value, is_nan, step, timestamp) VALUES "
    "('r1', 'acc', 0.9, false, 1, 1200)",
    "INSERT INTO latest_metrics VALUES ('r1', 'acc', 0.9, false, 1, 1200)",
    "INSERT INTO artifacts VALUES ('r1', 'model/shipyard-model.json', '" + "b" * 64 + "', 42)",
    "INSERT INTO datasets VALUES ('d1', 'mnist', 'digits', 1000, 1500)",
    "INSERT INTO dataset_tags VALUES ('d1', 'source', 'yann')",
    "INSERT INTO dataset_versions (id, dataset_id, version, manifest_digest, file_count, "
    "total_size, message, author, created_at, parent_version, lifecycle_stage, profile, "
    f"idempotency_key) VALUES ('v1', 'd1', 1, '{MANIFEST}', 3, 300, 'first', 'ada', 1100, "
    "NULL, 'active', '{\"rows\": 3}', 'key-1')",
    "INSERT INTO dataset_version_tags VALUES ('d1', 'golden', 'v1')",
    "INSERT INTO run_inputs VALUES ('r1', 'v1', 1300)",
]


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _revision_and_diff(url: str) -> tuple[str | None, list[object]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return migrations.current_revision(conn), migrations.schema_diff(conn)
    finally:
        engine.dispose()


def test_a_0003_database_upgrades_to_0004_with_nothing_lost(empty_url: str) -> None:
    engine = create_engine(empty_url)
    migrations.upgrade(engine, "0003")
    with engine.begin() as conn:
        for statement in DATA_0003:
            conn.execute(sa.text(statement))
    engine.dispose()
    assert not MODEL_TABLES & _tables(empty_url)

    with SqlStore(empty_url) as store:
        run = store.get_run("r1")
        history = store.get_metric_history("r1", "acc")
        dataset = store.get_dataset("mnist")
        version = store.get_dataset_version("mnist", "golden")
        inputs = store.get_run_inputs("r1")
        referenced = store.referenced_digests()
        # What 0004 added works next to the old data.
        registered = store.create_model_version(
            "digits", "runs:/r1/model", "b" * 64, run_id="r1", flavor="sklearn"
        )
        store.set_model_alias("digits", "production", 1, user="ada", reason="first")
        evaluation = store.log_evaluation(
            "models:/digits/1",
            "classification",
            "label",
            {"accuracy": 0.9},
            {"labels": [0, 1]},
            {},
            3,
            model_name="digits",
            model_version=1,
            dataset="mnist",
            dataset_version=1,
        )

    assert (run.name, run.user, run.params) == ("old-run", "ada", {"lr": "0.1"})
    assert history == [Metric("acc", 0.9, 1, 1200)]
    assert (dataset.description, dataset.tags, dataset.latest_version) == (
        "digits",
        {"source": "yann"},
        1,
    )
    assert (version.version, version.manifest_digest, version.tags, version.profile) == (
        1,
        MANIFEST,
        ["golden"],
        {"rows": 3},
    )
    assert version.lifecycle_stage is LifecycleStage.ACTIVE
    assert [(i.dataset, i.version) for i in inputs] == [("mnist", 1)]
    assert {MANIFEST, "b" * 64} <= referenced
    assert (registered.version, registered.run_id) == (1, "r1")
    assert evaluation.dataset_version == 1
    assert _revision_and_diff(empty_url) == (migrations.HEAD_REVISION, [])
    assert _tables(empty_url) >= MODEL_TABLES


def test_revision_0004_goes_down_and_up_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shipyard.db'}"
    with SqlStore(url) as store:
        store.create_dataset_version("digits", MANIFEST, 1, 1)
        store.create_model_version("digits", "runs:/x/model", "c" * 64)
    assert _tables(url) >= MODEL_TABLES

    engine = create_engine(url)
    try:
        from alembic import command

        with engine.begin() as conn:
            command.downgrade(migrations.alembic_config(conn), "0003")
    finally:
        engine.dispose()
    assert not MODEL_TABLES & _tables(url)

    with SqlStore(url) as store:  # opening upgrades again; older data is intact
        assert store.get_dataset_version("digits").manifest_digest == MANIFEST
        version = store.create_model_version("digits", "runs:/x/model", "c" * 64)
    assert version.version == 1
    assert _revision_and_diff(url) == (migrations.HEAD_REVISION, [])
