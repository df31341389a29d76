"""The fluent API end to end on a real SQLite store: runs, params, metrics, tags, status."""

from __future__ import annotations

import math
import threading

import pytest

import shipyard as sy
from shipyard.errors import ConflictError, InvalidInputError
from shipyard.tracking import state

pytestmark = pytest.mark.usefixtures("store_uri")


def test_a_run_records_params_metrics_and_tags() -> None:
    with sy.start_run(name="first", experiment="mnist", tags={"team": "vision"}) as run:
        run.log_params({"lr": 0.01, "layers": 3, "augment": True, "seed": None, "model": "svm"})
        run.log_metric("acc", 0.5)
        run.log_metric("acc", 0.75)
        run.log_metrics({"loss": 0.3, "f1": 0.6}, step=10)
        run.set_tags({"stage": "dev", "attempt": 2})
        assert sy.active_run() is run
    assert sy.active_run() is None
    stored = sy.get_run(run.id)
    assert stored.name == "first"
    assert stored.status is sy.RunStatus.FINISHED
    assert stored.end_time is not None and stored.end_time >= stored.start_time
    assert stored.experiment.name == "mnist"
    assert stored.params == {
        "lr": "0.01",
        "layers": "3",
        "augment": "True",
        "seed": "None",
        "model": "svm",
    }
    assert stored.metrics == {"acc": 0.75, "loss": 0.3, "f1": 0.6}
    assert stored.tags["team"] == "vision"
    assert stored.tags["stage"] == "dev" and stored.tags["attempt"] == "2"


def test_steps_count_up_per_key_from_zero_and_follow_explicit_steps() -> None:
    with sy.start_run() as run:
        for value in (1.0, 2.0, 3.0):
            run.log_metric("a", value)
        run.log_metric("b", 1.0)
        run.log_metric("a", 9.0, step=100)
        run.log_metric("a", 10.0)
    history = sy.get_metric_history(run.id, "a")
    assert [(p.step, p.value) for p in history] == [
        (0, 1.0),
        (1, 2.0),
        (2, 3.0),
        (100, 9.0),
        (101, 10.0),
    ]
    assert [p.step for p in sy.get_metric_history(run.id, "b")] == [0]


def test_non_finite_and_numpy_metric_values_are_kept() -> None:
    np = pytest.importorskip("numpy")
    with sy.start_run() as run:
        run.log_metric("nan", float("nan"))
        run.log_metric("inf", math.inf)
        run.log_metric("ninf", -math.inf)
        run.log_metric("f32", np.float32(0.5))
        run.log_metric("i64", np.int64(7))
    metrics = sy.get_run(run.id).metrics
    assert math.isnan(metrics["nan"])
    assert metrics["inf"] == math.inf and metrics["ninf"] == -math.inf
    assert metrics["f32"] == 0.5 and metrics["i64"] == 7.0


def test_bad_values_raise_at_the_call() -> None:
    with sy.start_run() as run:
        with pytest.raises(InvalidInputError, match="must be a number"):
            run.log_metric("acc", "high")  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError, match="must be a number"):
            run.log_metric("acc", True)
        with pytest.raises(InvalidInputError):
            run.log_metric("bad key!", 1.0)
        with pytest.raises(InvalidInputError, match="limit"):
            run.log_param("long", "x" * 6001)
        with pytest.raises(InvalidInputError, match="step"):
            run.log_metric("acc", 1.0, step=1.5)  # type: ignore[arg-type]


def test_a_param_conflict_raises_at_the_call_and_names_both_values() -> None:
    with sy.start_run() as run:
        run.log_param("lr", 0.1)
        run.log_param("lr", "0.1")  # the same text again is fine
        with pytest.raises(ConflictError) as caught:
            run.log_param("lr", 0.2)
    assert "0.1" in caught.value.message and "0.2" in caught.value.message
    assert sy.get_run(run.id).params == {"lr": "0.1"}


def test_an_exception_marks_the_run_failed_and_propagates() -> None:
    with pytest.raises(ZeroDivisionError), sy.start_run() as run:
        run.log_metric("before", 1.0)
        _ = 1 / 0
    stored = sy.get_run(run.id)
    assert stored.status is sy.RunStatus.FAILED
    assert stored.metrics == {"before": 1.0}


def test_keyboard_interrupt_marks_the_run_killed() -> None:
    with pytest.raises(KeyboardInterrupt), sy.start_run() as run:
        raise KeyboardInterrupt
    assert sy.get_run(run.id).status is sy.RunStatus.KILLED


def test_a_run_started_inside_another_is_its_child() -> None:
    with sy.start_run(name="sweep", experiment="tuning") as parent:
        for lr in (0.1, 0.01):
            with sy.start_run(name=f"lr={lr}") as child:
                sy.log_param("lr", lr)
                sy.log_metric("acc", lr * 5)
                assert sy.active_run() is child
            assert child.parent_run_id == parent.id
        assert sy.active_run() is parent
    view = sy.get_run(parent.id)
    children = view.children
    assert [c.name for c in children] == ["lr=0.1", "lr=0.01"]
    assert all(c.experiment.name == "tuning" for c in children)
    assert children[0].parent == view
    assert children[0].params == {"lr": "0.1"}


def test_an_explicit_parent_and_an_explicit_experiment() -> None:
    with sy.start_run(experiment="a") as first:
        pass
    with sy.start_run(experiment="b", parent=first.id) as child:
        pass
    stored = sy.get_run(child.id)
    assert stored.parent is not None and stored.parent.id == first.id
    assert stored.experiment.name == "b"


def test_module_level_functions_need_an_active_run() -> None:
    with pytest.raises(ConflictError, match="no active run"):
        sy.log_metric("acc", 1.0)
    with pytest.raises(ConflictError, match="no active run"):
        sy.log_param("lr", 1)


def test_start_run_without_with_and_end_run() -> None:
    run = sy.start_run(name="manual")
    sy.log_metric("acc", 0.5)
    sy.set_tag("k", "v")
    sy.end_run(status="KILLED")
    assert sy.active_run() is None
    stored = sy.get_run(run.id)
    assert stored.status is sy.RunStatus.KILLED
    assert stored.metrics == {"acc": 0.5} and stored.tags["k"] == "v"
    with pytest.raises(ConflictError, match="has ended"):
        run.log_metric("acc", 1.0)
    sy.end_run()  # nothing active: nothing happens


def test_set_experiment_and_the_environment_default(monkeypatch: pytest.MonkeyPatch) -> None:
    with sy.start_run() as run:
        pass
    assert sy.get_run(run.id).experiment.name == "Default"
    monkeypatch.setenv("SHIPYARD_EXPERIMENT", "from-env")
    with sy.start_run() as run:
        pass
    assert sy.get_run(run.id).experiment.name == "from-env"
    experiment = sy.set_experiment("chosen")
    assert experiment.name == "chosen"
    with sy.start_run() as run:
        pass
    assert sy.get_run(run.id).experiment_id == experiment.id


def test_a_run_cannot_start_in_a_deleted_experiment() -> None:
    client = sy.Client()
    gone = client.get_or_create_experiment("gone")
    client.store.delete_experiment(gone.id)
    with pytest.raises(ConflictError, match="deleted"):
        sy.start_run(experiment="gone")


def test_each_thread_has_its_own_active_run() -> None:
    seen: list[object] = []
    with sy.start_run() as run:
        worker = threading.Thread(target=lambda: seen.append(sy.active_run()))
        worker.start()
        worker.join()
        assert state.current_run() is run
    assert seen == [None]


def test_a_run_ended_from_another_thread_is_no_longer_active() -> None:
    run = sy.start_run()
    worker = threading.Thread(target=run.end)
    worker.start()
    worker.join()
    assert sy.active_run() is None
    assert sy.get_run(run.id).status is sy.RunStatus.FINISHED


def test_threads_logging_one_key_never_share_a_step() -> None:
    with sy.start_run() as run:

        def log_many() -> None:
            for _ in range(500):
                run.log_metric("x", 1.0)

        workers = [threading.Thread(target=log_many) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    steps = [point.step for point in sy.get_metric_history(run.id, "x")]
    assert sorted(steps) == list(range(2000))
