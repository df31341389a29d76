"""Store contract: log_metric_columns stores what log_batch of the same points would."""

from __future__ import annotations

import math
import uuid
from pathlib import Path

import numpy as np
import pytest

from shipyard.entities import Metric, Run
from shipyard.errors import InvalidInputError, NotFoundError
from shipyard.store.base import Store
from shipyard.store.sql.store import SqlStore


def test_columns_store_each_point_and_the_latest(store: Store, run: Run) -> None:
    keys = ["loss", "acc", "loss", "acc", "loss"]
    values = [0.9, 0.1, math.nan, math.inf, -math.inf]
    store.log_metric_columns(run.id, keys, values, [0, 0, 1, 1, 2], [10, 10, 11, 11, 12])
    loss = store.get_metric_history(run.id, "loss")
    assert [(p.step, p.timestamp) for p in loss] == [(0, 10), (1, 11), (2, 12)]
    assert loss[0].value == 0.9 and math.isnan(loss[1].value) and loss[2].value == -math.inf
    latest = store.get_run(run.id).metrics
    assert latest["loss"] == Metric("loss", -math.inf, 2, 12)
    assert latest["acc"] == Metric("acc", math.inf, 1, 11)


def test_the_latest_point_is_the_greatest_step_whatever_the_order(store: Store, run: Run) -> None:
    store.log_metric_columns(run.id, ["m"] * 4, [3.0, 9.0, 1.0, 5.0], [3, 9, 1, 5], [1, 1, 1, 1])
    store.log_metric_columns(run.id, ["m", "m"], [7.0, 8.0], [9, 9], [2, 2])  # ties: the later
    assert store.get_run(run.id).metrics["m"] == Metric("m", 8.0, 9, 2)
    store.log_metric_columns(run.id, ["m"], [0.0], [4], [3])  # an older step moves nothing
    assert store.get_run(run.id).metrics["m"].value == 8.0
    assert [p.step for p in store.get_metric_history(run.id, "m")] == [1, 3, 4, 5, 9, 9, 9]


def test_many_points_with_a_few_nans(store: Store, run: Run) -> None:
    count = 2345  # more than one multi-row INSERT, and a remainder
    values = [float(i) for i in range(count)]
    for index in (0, 999, 1000, 2344):
        values[index] = math.nan
    store.log_metric_columns(run.id, ["k"] * count, values, list(range(count)), [5] * count)
    history = store.get_metric_history(run.id, "k")
    assert len(history) == count
    nan_steps = [p.step for p in history if math.isnan(p.value)]
    assert nan_steps == [0, 999, 1000, 2344]
    assert history[1234].value == 1234.0
    assert math.isnan(store.get_run(run.id).metrics["k"].value)


def test_numbers_of_other_types_are_stored_as_floats(store: Store, run: Run) -> None:
    values = [1, np.float32(0.5), np.float64(2.5), 3.0]
    store.log_metric_columns(run.id, ["n"] * 4, values, [0, 1, 2, 3], [1, 1, 1, 1])  # type: ignore[arg-type]
    assert [p.value for p in store.get_metric_history(run.id, "n")] == [1.0, 0.5, 2.5, 3.0]


def test_empty_columns_are_fine(store: Store, run: Run) -> None:
    store.log_metric_columns(run.id, [], [], [], [])
    assert store.get_run(run.id).metrics == {}


def test_an_idempotency_key_stores_the_columns_once(store: Store, run: Run) -> None:
    key = uuid.uuid4().hex
    for _ in range(3):
        store.log_metric_columns(run.id, ["m", "m"], [1.0, 2.0], [0, 1], [1, 1], key)
    assert len(store.get_metric_history(run.id, "m")) == 2


@pytest.mark.parametrize(
    ("columns", "words"),
    [
        ((["a", "b"], [1.0], [0, 1], [1, 1]), "one length"),
        ((["a"], ["1.0"], [0], [1]), "must be a number"),
        ((["a"], [True], [0], [1]), "must be a number"),
        ((["bad key!"], [1.0], [0], [1]), "bad key!"),
        (([""], [1.0], [0], [1]), "must not be empty"),
        ((["a"], [1.0], [2**63], [1]), "64-bit"),
        ((["a"], [1.0], [0], [-1]), "timestamp -1"),
        ((["a"], [1.0], [0], [1.5]), "timestamp"),
    ],
)
def test_bad_columns_are_refused_and_nothing_is_stored(
    store: Store, run: Run, columns: tuple[list[object], ...], words: str
) -> None:
    with pytest.raises(InvalidInputError, match=words):
        store.log_metric_columns(run.id, *columns)  # type: ignore[arg-type]
    assert store.get_run(run.id).metrics == {}


def test_columns_for_a_missing_run_are_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.log_metric_columns("0" * 32, ["m"], [1.0], [0], [1])


class _StoreWithoutColumns(SqlStore):
    """A real store left with Store's own log_metric_columns (log_batch of Metric objects)."""

    log_metric_columns = Store.log_metric_columns


def test_the_default_columns_method_goes_through_log_batch(tmp_path: Path) -> None:
    with _StoreWithoutColumns(f"sqlite:///{tmp_path / 'shipyard.db'}") as store:
        run = store.create_run(store.create_experiment("plain").id)
        key = uuid.uuid4().hex
        for _ in range(2):
            store.log_metric_columns(run.id, ["m", "m"], [math.nan, 2.0], [0, 1], [5, 5], key)
        history = store.get_metric_history(run.id, "m")
        assert [p.step for p in history] == [0, 1] and math.isnan(history[0].value)
        with pytest.raises(InvalidInputError, match="one length"):
            store.log_metric_columns(run.id, ["m"], [1.0, 2.0], [0], [5])
