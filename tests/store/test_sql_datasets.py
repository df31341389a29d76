"""Dataset versions in SQL beyond the contract: several processes numbering versions of
one dataset in one SQLite file, and revision 0003 going down and up again."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from shipyard.store import base, datasets_base
from shipyard.store.hashing import hash_bytes
from shipyard.store.sql import migrations
from shipyard.store.sql.engine import create_engine
from shipyard.store.sql.store import SqlStore

PROCESSES = 2
VERSIONS_EACH = 5
DATASET_TABLES = {"datasets", "dataset_tags", "dataset_versions", "dataset_version_tags"}


def _add_versions(url: str, index: int, barrier: Any) -> None:
    with SqlStore(url) as store:
        barrier.wait()
        for i in range(VERSIONS_EACH):
            digest = hash_bytes(f"process {index} version {i}".encode())
            store.create_dataset_version("shared", digest, 1, 1, author=f"p{index}")


def test_processes_adding_versions_at_once_never_share_a_number(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    SqlStore(url).close()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    processes = [
        context.Process(target=_add_versions, args=(url, i, barrier)) for i in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0] * PROCESSES

    with SqlStore(url) as store:
        versions = store.list_dataset_versions("shared")
    total = PROCESSES * VERSIONS_EACH
    assert [v.version for v in versions] == list(range(1, total + 1))
    assert [v.parent_version for v in versions] == [None, *range(1, total)]
    assert len({v.manifest_digest for v in versions}) == total
    assert sorted(str(v.author) for v in versions) == sorted(
        f"p{i}" for i in range(PROCESSES) for _ in range(VERSIONS_EACH)
    )


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_revision_0003_goes_down_and_up_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shipyard.db'}"
    with SqlStore(url) as store:
        experiment = store.create_experiment("kept")
        store.create_dataset_version("digits", hash_bytes(b"m1"), 1, 1)
    assert DATASET_TABLES | {"run_inputs"} <= _tables(url)

    engine = create_engine(url)
    try:
        from alembic import command

        with engine.begin() as conn:
            command.downgrade(migrations.alembic_config(conn), "0002")
    finally:
        engine.dispose()
    assert not (DATASET_TABLES | {"run_inputs"}) & _tables(url)

    with SqlStore(url) as store:  # opening upgrades again; older data is intact
        assert store.get_experiment(experiment.id).name == "kept"
        version, created = store.create_dataset_version("digits", hash_bytes(b"m1"), 1, 1)
    assert created and version.version == 1
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert migrations.current_revision(conn) == migrations.head_revision()
            assert migrations.schema_diff(conn) == []
    finally:
        engine.dispose()


def test_dataset_listing_uses_the_store_page_size() -> None:
    assert datasets_base._DEFAULT_PAGE_SIZE == base.DEFAULT_PAGE_SIZE
