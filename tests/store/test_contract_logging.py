"""Store contract: log_batch (params, metrics, tags, idempotency) and metric history."""

from __future__ import annotations

import math
import uuid

import pytest

from shipyard.entities import Metric, Param, Run, Tag
from shipyard.errors import ConflictError, InvalidInputError, NotFoundError
from shipyard.store.base import Store


def test_params_can_be_repeated_but_never_changed(store: Store, run: Run) -> None:
    store.log_batch(run.id, params=[Param("lr", "0.1"), Param("model", "svm")])
    store.log_batch(run.id, params=[Param("lr", "0.1")])  # the same value again is fine

    with pytest.raises(ConflictError) as caught:
        store.log_batch(
            run.id,
            metrics=[Metric("loss", 1.0)],
            params=[Param("batch", "32"), Param("lr", "0.2")],
            tags=[Tag("note", "should not be stored")],
        )

    message = str(caught.value)
    assert "lr" in message and "0.1" in message and "0.2" in message
    fetched = store.get_run(run.id)
    assert fetched.params == {"lr": "0.1", "model": "svm"}
    assert fetched.metrics == {}
    assert fetched.tags == {}
    assert store.get_metric_history(run.id, "loss") == []


def test_one_param_twice_in_a_batch_with_different_values(store: Store, run: Run) -> None:
    with pytest.raises(ConflictError, match=r"first.*second|second.*first"):
        store.log_batch(run.id, params=[Param("p", "first"), Param("p", "second")])
    assert store.get_run(run.id).params == {}


def test_long_values_round_trip(store: Store, run: Run) -> None:
    # Long and varied enough that no index may hold them whole.
    param = "".join(uuid.uuid4().hex for _ in range(187))[:6000]
    tag = "".join(uuid.uuid4().hex for _ in range(250))[:8000]
    store.log_batch(run.id, params=[Param("long", param)], tags=[Tag("long", tag)])
    fetched = store.get_run(run.id)
    assert fetched.params["long"] == param
    assert fetched.tags["long"] == tag


def test_tags_are_overwritten(store: Store, run: Run) -> None:
    store.log_batch(run.id, tags=[Tag("stage", "train")])
    store.log_batch(run.id, tags=[Tag("stage", "eval"), Tag("other", "x")])
    assert store.get_run(run.id).tags == {"stage": "eval", "other": "x"}


def test_nan_and_infinities_round_trip(store: Store, run: Run) -> None:
    store.log_batch(
        run.id,
        metrics=[
            Metric("v", math.nan, step=0, timestamp=10),
            Metric("v", math.inf, step=1, timestamp=11),
            Metric("v", -math.inf, step=2, timestamp=12),
            Metric("v", -0.5, step=3, timestamp=13),
            Metric("nan_last", math.nan, step=0, timestamp=10),
        ],
    )
    values = [m.value for m in store.get_metric_history(run.id, "v")]
    assert math.isnan(values[0])
    assert values[1:] == [math.inf, -math.inf, -0.5]
    latest = store.get_run(run.id).metrics
    assert latest["v"] == Metric("v", -0.5, 3, 13)
    assert math.isnan(latest["nan_last"].value)


def test_history_is_ordered_by_step_then_timestamp(store: Store, run: Run) -> None:
    points = [
        Metric("loss", 3.0, step=2, timestamp=100),
        Metric("loss", 1.0, step=0, timestamp=300),
        Metric("loss", 2.5, step=1, timestamp=200),
        Metric("loss", 2.0, step=1, timestamp=150),
    ]
    store.log_batch(run.id, metrics=points[:2])
    store.log_batch(run.id, metrics=points[2:])
    history = store.get_metric_history(run.id, "loss")
    assert [(m.step, m.timestamp, m.value) for m in history] == [
        (0, 300, 1.0),
        (1, 150, 2.0),
        (1, 200, 2.5),
        (2, 100, 3.0),
    ]
    assert all(m.key == "loss" for m in history)


def test_latest_metric_is_the_greatest_step_then_timestamp(store: Store, run: Run) -> None:
    store.log_batch(run.id, metrics=[Metric("acc", 0.7, step=5, timestamp=100)])
    store.log_batch(run.id, metrics=[Metric("acc", 0.1, step=3, timestamp=999)])
    assert store.get_run(run.id).metrics["acc"] == Metric("acc", 0.7, 5, 100)
    store.log_batch(run.id, metrics=[Metric("acc", 0.8, step=5, timestamp=101)])
    assert store.get_run(run.id).metrics["acc"] == Metric("acc", 0.8, 5, 101)
    store.log_batch(
        run.id,
        metrics=[Metric("acc", 0.95, step=9, timestamp=1), Metric("acc", 0.2, step=6, timestamp=2)],
    )
    assert store.get_run(run.id).metrics["acc"] == Metric("acc", 0.95, 9, 1)


def test_downsampled_history_keeps_ends_and_extremes(store: Store, run: Run) -> None:
    values = [math.sin(i / 50) for i in range(1000)]
    values[437] = 100.0  # a spike a chart must show
    values[612] = -100.0
    store.log_batch(
        run.id, metrics=[Metric("wave", v, step=i, timestamp=i) for i, v in enumerate(values)]
    )

    sampled = store.get_metric_history(run.id, "wave", max_points=50)

    assert 2 < len(sampled) <= 50
    steps = [m.step for m in sampled]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    assert steps[0] == 0 and steps[-1] == 999
    assert 437 in steps and 612 in steps
    assert all(m.value == values[m.step] for m in sampled)


def test_downsampling_works_without_steps(store: Store, run: Run) -> None:
    # Points logged without a step all sit at step 0: buckets hold equal counts of points.
    values = [float((i * 37) % 101) for i in range(500)]
    store.log_batch(
        run.id, metrics=[Metric("m", v, step=0, timestamp=1000 + i) for i, v in enumerate(values)]
    )
    full = store.get_metric_history(run.id, "m")
    sampled = store.get_metric_history(run.id, "m", max_points=40)

    assert 30 <= len(sampled) <= 40
    assert sampled[0] == full[0] and sampled[-1] == full[-1]
    positions = [full.index(m) for m in sampled]
    assert positions == sorted(positions)  # a subsequence of the history, in order
    assert {m.value for m in sampled} >= {0.0, 100.0}


@pytest.mark.parametrize("max_points", [1, 2, 3, 4, 7])
def test_downsampling_never_exceeds_max_points(store: Store, run: Run, max_points: int) -> None:
    store.log_batch(run.id, metrics=[Metric("m", float(i % 7), step=i) for i in range(40)])
    sampled = store.get_metric_history(run.id, "m", max_points=max_points)
    assert 1 <= len(sampled) <= max_points
    assert sampled[-1].step == 39
    if max_points >= 2:
        assert sampled[0].step == 0


def test_short_history_is_returned_whole(store: Store, run: Run) -> None:
    points = [Metric("m", float(i), step=i, timestamp=i) for i in range(10)]
    store.log_batch(run.id, metrics=points)
    assert store.get_metric_history(run.id, "m", max_points=10) == points
    assert store.get_metric_history(run.id, "m", max_points=1000) == points


def test_history_edge_cases(store: Store, run: Run) -> None:
    assert store.get_metric_history(run.id, "never-logged") == []
    with pytest.raises(NotFoundError):
        store.get_metric_history("0" * 32, "loss")
    with pytest.raises(InvalidInputError):
        store.get_metric_history(run.id, "loss", max_points=0)


def test_a_retried_batch_is_stored_once(store: Store, run: Run) -> None:
    key = uuid.uuid4().hex
    batch = [Metric("loss", float(i), step=i, timestamp=i) for i in range(3)]
    store.log_batch(run.id, metrics=batch, params=[Param("p", "1")], idempotency_key=key)
    store.log_batch(run.id, metrics=batch, params=[Param("p", "1")], idempotency_key=key)
    assert store.get_metric_history(run.id, "loss") == batch
    # Without a key the same points are simply logged again.
    store.log_batch(run.id, metrics=batch)
    assert len(store.get_metric_history(run.id, "loss")) == 6


def test_a_failed_batch_does_not_burn_its_idempotency_key(store: Store, run: Run) -> None:
    key = uuid.uuid4().hex
    store.log_batch(run.id, params=[Param("p", "1")])
    with pytest.raises(ConflictError):
        store.log_batch(run.id, params=[Param("p", "2")], idempotency_key=key)
    with pytest.raises(ConflictError):
        store.log_batch(run.id, params=[Param("p", "2")], idempotency_key=key)


@pytest.mark.parametrize(
    "batch",
    [
        {"metrics": [Metric("bad key!", 1.0)]},
        {"metrics": [Metric("", 1.0)]},
        {"metrics": [Metric("../up", 1.0)]},
        {"metrics": [Metric("ok", "1.0")]},  # type: ignore[arg-type]
        {"metrics": [Metric("ok", True)]},
        {"metrics": [Metric("ok", 1.0, step=1.5)]},  # type: ignore[arg-type]
        {"metrics": [Metric("ok", 1.0, timestamp=-1)]},
        {"params": [Param("k" * 251, "v")]},
        {"params": [Param("k", "v" * 6001)]},
        {"tags": [Tag("k", "v" * 8001)]},
        {"tags": [Tag("k", "nul\x00byte")]},
    ],
)
def test_bad_batches_are_refused_whole(
    store: Store, run: Run, batch: dict[str, list[object]]
) -> None:
    fine = {"metrics": [Metric("fine", 1.0)], "params": [Param("fine", "1")]}
    with pytest.raises(InvalidInputError):
        store.log_batch(run.id, **{k: fine.get(k, []) + batch.get(k, []) for k in fine | batch})  # type: ignore[arg-type,operator]
    fetched = store.get_run(run.id)
    assert fetched.metrics == {}
    assert fetched.params == {}


def test_logging_to_a_missing_run(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.log_batch("0" * 32, metrics=[Metric("loss", 1.0)])
