"""Store contract: ``list_run_keys``, the distinct keys of some experiments' active runs."""

from __future__ import annotations

import uuid

import pytest

from shipyard.entities import Experiment, Metric, Param, RunKeys, Tag
from shipyard.errors import InvalidInputError
from shipyard.store.base import Store
from shipyard.store.sql import run_keys
from shipyard.store.sql.store import SqlStore
from tests.store.conftest import unique


def _log(store: Store, experiment: Experiment, tag: str, **keys: list[str]) -> str:
    run = store.create_run(experiment.id)
    store.log_batch(
        run.id,
        metrics=[Metric(k, 0.5, 0, 1) for k in keys.get("metrics", [])],
        params=[Param(k, "1") for k in keys.get("params", [])],
        tags=[Tag(k, tag) for k in keys.get("tags", [])],
    )
    return run.id


def _both_scans(
    store: Store, experiment_ids: list[str], monkeypatch: pytest.MonkeyPatch
) -> RunKeys:
    """The keys; on SQL, also checked to be the same when the key index drives the query."""
    keys = store.list_run_keys(experiment_ids)
    if isinstance(store, SqlStore):
        with monkeypatch.context() as patch:
            patch.setattr(run_keys, "SMALL_SCOPE", 0)
            assert store.list_run_keys(experiment_ids) == keys
    return keys


def test_keys_of_two_experiments_are_distinct_and_sorted(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = store.create_experiment(unique())
    second = store.create_experiment(unique())
    other = store.create_experiment(unique())
    _log(store, first, "a", metrics=["loss", "acc"], params=["lr", "Zeta"], tags=["team"])
    _log(
        store,
        first,
        "b",
        metrics=["loss"],
        params=["lr", "batch"],
        tags=["team", "_private", "Team"],
    )
    _log(store, second, "c", metrics=["auc", "loss"], params=["depth"], tags=[])
    _log(store, other, "d", metrics=["other_metric"], params=["other_param"], tags=["other"])
    store.create_run(second.id)  # a run without keys adds none

    keys = _both_scans(store, [first.id, second.id], monkeypatch)

    assert keys == RunKeys(
        metrics=["acc", "auc", "loss"],
        params=["Zeta", "batch", "depth", "lr"],  # code point order
        tags=["Team", "_private", "team"],  # code point order
    )
    assert _both_scans(store, [second.id, second.id], monkeypatch) == RunKeys(
        ["auc", "loss"], ["depth"], []
    )


def test_deleted_runs_and_experiments_are_left_out(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    experiment = store.create_experiment(unique())
    gone = store.create_experiment(unique())
    mark = uuid.uuid4().hex[:8]
    _log(store, experiment, "x", metrics=[f"kept-{mark}"], params=["p"], tags=["t"])
    deleted = _log(store, experiment, "x", metrics=[f"deleted-{mark}"], params=["q"], tags=["u"])
    _log(store, gone, "x", metrics=[f"gone-{mark}"])
    store.delete_run(deleted)
    store.delete_experiment(gone.id)

    assert _both_scans(store, [experiment.id], monkeypatch) == RunKeys(
        [f"kept-{mark}"], ["p"], ["t"]
    )
    assert _both_scans(store, [gone.id], monkeypatch) == RunKeys([], [], [])
    everywhere = _both_scans(store, [], monkeypatch).metrics
    assert f"kept-{mark}" in everywhere
    assert f"deleted-{mark}" not in everywhere and f"gone-{mark}" not in everywhere

    store.restore_run(deleted)
    assert store.list_run_keys([experiment.id]).params == ["p", "q"]


def test_all_experiments_when_none_given(store: Store) -> None:
    first = store.create_experiment(unique())
    second = store.create_experiment(unique())
    mark = uuid.uuid4().hex[:8]
    _log(store, first, "x", params=[f"first-{mark}"])
    _log(store, second, "x", tags=[f"second-{mark}"])

    keys = store.list_run_keys([])

    assert f"first-{mark}" in keys.params and f"second-{mark}" in keys.tags
    for found in (keys.metrics, keys.params, keys.tags):
        assert found == sorted(set(found))


def test_empty_experiments_have_no_keys(store: Store) -> None:
    empty = store.create_experiment(unique())
    assert store.list_run_keys([empty.id]) == RunKeys([], [], [])
    store.create_run(empty.id)
    assert store.list_run_keys([empty.id]) == RunKeys([], [], [])
    assert store.list_run_keys([uuid.uuid4().hex]) == RunKeys([], [], [])  # no such experiment


@pytest.mark.parametrize("bad", ["abc", [""], [5], None])
def test_bad_experiment_ids_are_refused(store: Store, bad: object) -> None:
    with pytest.raises(InvalidInputError):
        store.list_run_keys(bad)  # type: ignore[arg-type]
