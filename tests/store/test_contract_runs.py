"""Store contract: runs (create, read, update, delete and restore, nesting, tags, search)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from shipyard.entities import Experiment, LifecycleStage, Metric, Param, Run, RunStatus, Tag, now_ms
from shipyard.errors import ConflictError, InvalidInputError, NotFoundError
from shipyard.store.base import Store


def test_a_new_run_is_running_with_a_generated_name(store: Store, experiment: Experiment) -> None:
    before = now_ms()
    run = store.create_run(experiment.id)

    assert re.fullmatch(r"[a-z]+-[a-z]+-\d{3}", run.name)
    assert run.status is RunStatus.RUNNING
    assert run.lifecycle_stage is LifecycleStage.ACTIVE
    assert run.experiment_id == experiment.id
    assert before <= run.start_time <= now_ms()
    assert run.end_time is None
    assert run.parent_run_id is None
    assert store.get_run(run.id) == run


def test_create_run_keeps_what_it_is_given(store: Store, experiment: Experiment) -> None:
    run = store.create_run(
        experiment.id,
        name="baseline svm",
        tags={"team": "vision", "git.commit": "abc123"},
        start_time=1_700_000_000_000,
        user="ada",
    )
    fetched = store.get_run(run.id)
    assert fetched.name == "baseline svm"
    assert fetched.tags == {"team": "vision", "git.commit": "abc123"}
    assert fetched.start_time == 1_700_000_000_000
    assert fetched.user == "ada"
    assert fetched == run


def test_create_run_refuses_bad_input(store: Store, experiment: Experiment) -> None:
    with pytest.raises(NotFoundError):
        store.create_run("0" * 32)
    with pytest.raises(NotFoundError):
        store.create_run(experiment.id, parent_run_id="0" * 32)
    with pytest.raises(InvalidInputError):
        store.create_run(experiment.id, name="")
    with pytest.raises(InvalidInputError):
        store.create_run(experiment.id, tags={"no\nnewlines": "v"})
    with pytest.raises(InvalidInputError):
        store.create_run(experiment.id, start_time=-1)


def test_nested_runs_name_their_parent(make_run: Callable[..., Run], store: Store) -> None:
    parent = make_run(name="sweep")
    child = make_run(name="trial-1", parent_run_id=parent.id)
    assert store.get_run(child.id).parent_run_id == parent.id


def test_get_run_of_a_missing_id(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.get_run("0" * 32)


def test_finishing_a_run_sets_its_end_time(store: Store, run: Run) -> None:
    before = now_ms()
    finished = store.update_run(run.id, status=RunStatus.FINISHED)
    assert finished.status is RunStatus.FINISHED
    assert finished.end_time is not None
    assert before <= finished.end_time <= now_ms()
    assert store.get_run(run.id) == finished


def test_update_run_with_explicit_end_time_and_name(store: Store, run: Run) -> None:
    end = run.start_time + 5_000
    updated = store.update_run(run.id, status=RunStatus.FAILED, end_time=end, name="broken")
    assert (updated.status, updated.end_time, updated.name) == (RunStatus.FAILED, end, "broken")
    assert updated.duration_ms == 5_000
    renamed = store.update_run(run.id, name="renamed")
    assert (renamed.status, renamed.end_time, renamed.name) == (RunStatus.FAILED, end, "renamed")


def test_update_run_refuses_bad_input(store: Store, run: Run) -> None:
    with pytest.raises(InvalidInputError):
        store.update_run(run.id, status="DONE")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        store.update_run(run.id, name="x" * 300)
    with pytest.raises(NotFoundError):
        store.update_run("0" * 32, status=RunStatus.KILLED)


def test_an_end_before_the_start_is_refused(store: Store, run: Run) -> None:
    with pytest.raises(InvalidInputError, match="before the run's start_time"):
        store.update_run(run.id, status=RunStatus.FINISHED, end_time=run.start_time - 1)
    assert store.get_run(run.id).status is RunStatus.RUNNING


def test_delete_and_restore_a_run(store: Store, run: Run) -> None:
    store.delete_run(run.id)
    assert store.get_run(run.id).lifecycle_stage is LifecycleStage.DELETED
    with pytest.raises(ConflictError):
        store.log_batch(run.id, metrics=[Metric("loss", 1.0)])
    with pytest.raises(ConflictError):
        store.update_run(run.id, status=RunStatus.FINISHED)
    assert store.search_runs([run.experiment_id]).items == []

    store.restore_run(run.id)
    assert store.get_run(run.id).lifecycle_stage is LifecycleStage.ACTIVE
    store.log_batch(run.id, metrics=[Metric("loss", 1.0)])
    assert [r.id for r in store.search_runs([run.experiment_id]).items] == [run.id]
    with pytest.raises(NotFoundError):
        store.delete_run("0" * 32)
    with pytest.raises(NotFoundError):
        store.restore_run("0" * 32)


def test_a_finished_run_still_takes_logs(store: Store, run: Run) -> None:
    store.update_run(run.id, status=RunStatus.FINISHED)
    store.log_batch(run.id, metrics=[Metric("late", 2.0, step=1)], tags=[Tag("k", "v")])
    fetched = store.get_run(run.id)
    assert fetched.metrics["late"].value == 2.0
    assert fetched.tags["k"] == "v"


def test_delete_tag(store: Store, run: Run) -> None:
    store.log_batch(run.id, tags=[Tag("keep", "1"), Tag("drop", "2")])
    store.delete_tag(run.id, "drop")
    assert store.get_run(run.id).tags == {"keep": "1"}
    with pytest.raises(NotFoundError, match="drop"):
        store.delete_tag(run.id, "drop")
    with pytest.raises(NotFoundError):
        store.delete_tag("0" * 32, "keep")


def test_search_returns_runs_with_params_tags_and_latest_metrics(
    store: Store, experiment: Experiment, make_run: Callable[..., Run]
) -> None:
    runs = []
    for i, model in enumerate(["svm", "tree", "svm"]):
        run = make_run(name=f"run-{i}", start_time=1_700_000_000_000 + i)
        store.log_batch(
            run.id,
            metrics=[Metric("acc", 0.5 + i / 10, step=0), Metric("acc", 0.9 + i / 100, step=1)],
            params=[Param("model", model)],
            tags=[Tag("i", str(i))],
        )
        runs.append(run)

    found = store.search_runs(
        [experiment.id], filter_string="params.model = 'svm'", order_by=["metrics.acc DESC"]
    ).items

    assert [r.id for r in found] == [runs[2].id, runs[0].id]
    best = found[0]
    assert best.params == {"model": "svm"}
    assert best.tags == {"i": "2"}
    assert best.metrics["acc"].step == 1
    assert best.metrics["acc"].value == pytest.approx(0.92)


def test_search_pages_keep_the_order(
    store: Store, experiment: Experiment, make_run: Callable[..., Run]
) -> None:
    made = [make_run(start_time=1_700_000_000_000 + i).id for i in range(5)]
    seen: list[str] = []
    token: str | None = None
    while True:
        page = store.search_runs([experiment.id], max_results=2, page_token=token)
        seen.extend(r.id for r in page.items)
        token = page.next_page_token
        if token is None:
            break
    assert seen == list(reversed(made))  # newest first by default


@pytest.mark.parametrize("order_by", [None, ["metrics.acc DESC"], ["params.p", "start_time"]])
def test_runs_created_between_pages_cause_no_duplicates_or_gaps(
    store: Store, experiment: Experiment, make_run: Callable[..., Run], order_by: list[str] | None
) -> None:
    def make(i: int) -> Run:
        run = make_run(start_time=1_700_000_000_000 + i)
        store.log_batch(
            run.id,
            metrics=[Metric("acc", i / 100, 0, 0)],
            params=[Param("p", f"v{i:03d}")],
        )
        return run

    existing = {make(i).id for i in range(0, 40, 2)}
    first = store.search_runs([experiment.id], order_by=order_by, max_results=7)
    # New runs sort before, between and after the ones already paged.
    for i in [*range(1, 40, 2), 100, -100]:
        make(i)
    seen = [run.id for run in first.items]
    token = first.next_page_token
    while token is not None:
        page = store.search_runs(
            [experiment.id], order_by=order_by, max_results=7, page_token=token
        )
        seen.extend(run.id for run in page.items)
        token = page.next_page_token
    assert len(seen) == len(set(seen))
    assert existing <= set(seen)
