"""Reading back: search_runs as a DataFrame, the object tree, comparison, id prefixes."""

from __future__ import annotations

import math

import pytest

import shipyard as sy
from shipyard.errors import FilterSyntaxError, InvalidInputError, NotFoundError

pytestmark = pytest.mark.usefixtures("store_uri")


@pytest.fixture
def runs() -> dict[str, str]:
    """Three runs in "mnist" (svm, forest, svm) and one in "other"; name -> id."""
    ids = {}
    for name, model, acc in (("a", "svm", 0.9), ("b", "forest", 0.95), ("c", "svm", math.nan)):
        with sy.start_run(name=name, experiment="mnist", capture=False) as run:
            run.log_params({"model": model, "seed": 1})
            run.log_metric("acc", acc)
            run.set_tag("team", "vision")
        ids[name] = run.id
    with sy.start_run(name="d", experiment="other", capture=False) as run:
        run.log_metric("acc", 0.5)
    ids["d"] = run.id
    return ids


def test_search_runs_returns_a_dataframe_with_typed_columns(runs: dict[str, str]) -> None:
    pd = pytest.importorskip("pandas")
    frame = sy.search_runs(experiments=["mnist"])
    assert list(frame["run_name"]) == ["c", "b", "a"]  # newest first
    assert list(frame.columns[:8]) == [
        "run_id",
        "experiment_id",
        "run_name",
        "status",
        "user",
        "parent_run_id",
        "start_time",
        "end_time",
    ]
    assert {"metrics.acc", "params.model", "params.seed", "tags.team"} <= set(frame.columns)
    assert str(frame["start_time"].dtype).startswith("datetime64")
    assert frame["start_time"].dt.tz is not None
    assert (frame["end_time"] >= frame["start_time"]).all()
    assert frame["metrics.acc"].dtype == "float64"
    assert math.isnan(frame["metrics.acc"][0])
    assert set(frame["status"]) == {"FINISHED"}
    assert isinstance(frame, pd.DataFrame)


def test_search_runs_filters_orders_and_limits(runs: dict[str, str]) -> None:
    best = sy.search_runs("params.model = 'svm' and metrics.acc > 0.8", experiments="mnist")
    assert list(best["run_name"]) == ["a"]
    ordered = sy.search_runs(order_by=["metrics.acc DESC"], experiments=["mnist", "other"])
    assert list(ordered["run_name"])[:3] == ["b", "a", "d"]
    assert len(sy.search_runs(limit=2)) == 2
    assert set(sy.search_runs()["run_name"]) == {"a", "b", "c", "d"}  # all experiments
    empty = sy.search_runs("metrics.acc > 10")
    assert len(empty) == 0 and "run_id" in empty.columns


def test_a_bad_filter_names_the_position(runs: dict[str, str]) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        sy.search_runs("metrics.acc >")
    assert caught.value.position == 13


def test_paging_goes_through_every_page(runs: dict[str, str]) -> None:
    client = sy.Client()
    names = [run.name for run in client.iter_runs(page_size=1)]
    assert sorted(names) == ["a", "b", "c", "d"]
    assert [run.name for run in client.iter_runs(page_size=3, limit=2)] == ["d", "c"]


def test_the_experiment_tree(runs: dict[str, str]) -> None:
    experiment = sy.Experiment("mnist")
    assert experiment.name == "mnist" and sy.Experiment(experiment.id) == experiment
    iterator = experiment.runs
    first = next(iterator)
    assert first.name == "c"
    assert [run.name for run in experiment] == ["c", "b", "a"]
    run = experiment[runs["b"][:10]]
    assert run.id == runs["b"]
    assert run.params == {"model": "forest", "seed": "1"}
    assert run.metrics == {"acc": 0.95}
    assert run.tags == {"team": "vision"}
    assert run.history("acc")[0].value == 0.95
    assert run.parent is None and run.children == []
    with pytest.raises(NotFoundError):
        _ = experiment[runs["d"]]
    with pytest.raises(NotFoundError):
        sy.Experiment("nope")
    assert [e.name for e in sy.Experiment.all()] == ["mnist", "other"]


def test_compare_runs_shows_differing_params_and_metrics(runs: dict[str, str]) -> None:
    comparison = sy.compare_runs([runs["a"], runs["b"][:8], runs["d"]])
    assert [run.name for run in comparison.runs] == ["a", "b", "d"]
    assert comparison.differing_params == {
        "model": ["svm", "forest", None],
        "seed": ["1", "1", None],
    }
    assert comparison.metrics == {"acc": [0.9, 0.95, 0.5]}
    frame = comparison.to_frame()
    assert frame.loc["params.model", runs["b"]] == "forest"
    assert frame.loc["metrics.acc", runs["d"]] == 0.5
    same = sy.compare_runs([runs["a"], runs["c"]])
    assert same.differing_params == {} and same.same_params == {"model": "svm", "seed": "1"}


def test_run_ids_accept_unique_prefixes(runs: dict[str, str]) -> None:
    full = runs["a"]
    assert sy.get_run(full[:6]).id == full
    assert sy.get_run(full.upper()).id == full
    with pytest.raises(InvalidInputError, match="at least 6"):
        sy.get_run(full[:5])
    with pytest.raises(NotFoundError):
        sy.get_run("ffffff" if not full.startswith("ffffff") else "000000")
    with pytest.raises(NotFoundError):
        sy.get_run("0" * 32)


def test_history_can_be_downsampled() -> None:
    with sy.start_run(capture=False) as run:
        for step in range(1000):
            run.log_metric("loss", float(step % 97))
    full = sy.get_metric_history(run.id, "loss")
    small = sy.get_metric_history(run.id, "loss", max_points=50)
    assert len(full) == 1000
    assert 2 <= len(small) <= 50
    assert small[0].step == 0 and small[-1].step == 999
    assert max(p.value for p in small) == 96.0
