"""`shipyard demo --quick`, run for real in a fresh folder, then checked through the API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import skops.io

import shipyard as sy


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The folder the demo ran in (no settings: the embedded default store) and its output."""
    folder = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    done = subprocess.run(
        [sys.executable, "-m", "shipyard", "demo", "--quick"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return folder, done.stdout


@pytest.fixture
def store_of_demo(demo_run: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> str:
    folder, _ = demo_run
    monkeypatch.setenv("SHIPYARD_URI", str(folder / ".shipyard"))
    return demo_run[1]


def test_demo_prints_the_leaderboard_and_the_best_run(store_of_demo: str) -> None:
    output = store_of_demo
    assert "Leaderboard" in output
    assert "Which model was best?" in output
    for model in ("logreg", "svm", "random_forest"):
        assert model in output
    assert "code version" in output
    assert "python" in output and "scikit-learn" in output
    assert "model/model.skops" in output

    board = sy.search_runs(
        filter="metrics.test_accuracy >= 0",
        order_by=["metrics.test_accuracy DESC", "metrics.test_f1_macro DESC"],
        experiments=["digits"],
    )
    best_id = str(board.iloc[0]["run_id"])
    # The panel names the run that is first by test accuracy, by its full id.
    assert best_id in output


def test_demo_stores_every_trial_with_its_record(store_of_demo: str) -> None:
    trials = sy.search_runs(filter="tags.`demo.role` = 'trial'", experiments=["digits"])
    sweeps = sy.search_runs(filter="tags.`demo.role` = 'sweep'", experiments=["digits"])
    assert len(trials) == 4
    assert set(sweeps["params.model"]) == {"logreg", "svm", "random_forest"}
    assert set(trials["status"]) == {"FINISHED"}
    # Every trial is a child of its family's sweep.
    parents = dict(zip(sweeps["run_id"], sweeps["params.model"], strict=True))
    for _, trial in trials.iterrows():
        assert parents[trial["parent_run_id"]] == trial["params.model"]
        assert 0.5 < trial["metrics.test_accuracy"] <= 1.0
        assert trial["metrics.fit_time_s"] >= 0.0
        assert trial["params.data.name"] == "sklearn.datasets.load_digits"

    best = sy.get_run(str(trials.sort_values("metrics.test_accuracy").iloc[-1]["run_id"]))
    assert [p.step for p in best.history("cv_accuracy")] == [1, 2, 3]
    paths = {entry.path for entry in best.artifacts}
    assert {"model/model.skops", "confusion_matrix.csv", "environment/requirements.txt"} <= paths
    assert "shipyard.python.version" in best.tags

    matrix = best.read_text("confusion_matrix.csv").splitlines()
    assert len(matrix) == 11  # a header and one row per digit
    counts = [int(cell) for line in matrix[1:] for cell in line.split(",")[1:]]
    assert sum(counts) == 150  # the quick demo holds out 150 of 600 images

    # The stored model loads back (skops: nothing runs on load) and predicts digits.
    data = best.read_bytes("model/model.skops")
    model = skops.io.loads(data, trusted=skops.io.get_untrusted_types(data=data))
    from sklearn.datasets import load_digits

    digits = load_digits()
    predicted = model.predict(digits.data[:50] / 16.0)
    assert (predicted == digits.target[:50]).mean() > 0.8


def test_demo_versions_the_splits_with_profiles(store_of_demo: str) -> None:
    expected = {"digits-train": 450, "digits-test": 150}  # the quick demo's 600 images
    for name, rows in expected.items():
        (version,) = sy.data.versions(name)
        assert version.version == 1
        assert version.file_count == 1
        assert version.profile is not None
        table = version.profile["files"]["table.parquet"]
        assert table["row_count"] == rows
        assert set(table["columns"]) == {*(f"pixel_{i}" for i in range(64)), "target"}
        assert table["columns"]["pixel_0"]["kind"] == "float"
        assert table["columns"]["target"]["kind"] == "integer"
        frame = sy.data.load_table(version)
        assert len(frame) == rows
        assert sorted(frame["target"].unique()) == list(range(10))
        assert frame[[f"pixel_{i}" for i in range(64)]].to_numpy().max() <= 1.0
    assert "digits-train@1" in store_of_demo and "digits-test@1" in store_of_demo


def test_every_trial_records_its_data_versions(store_of_demo: str) -> None:
    trials = sy.search_runs(filter="tags.`demo.role` = 'trial'", experiments=["digits"])
    store = sy.Client().store
    for run_id in trials["run_id"]:
        inputs = {(i.dataset, i.version) for i in store.get_run_inputs(str(run_id))}
        assert inputs == {("digits-train", 1), ("digits-test", 1)}
    used = set(store.get_dataset_version_runs("digits-train", 1))
    assert used == {str(run_id) for run_id in trials["run_id"]}


def test_a_second_demo_reuses_the_dataset_versions(
    demo_run: tuple[Path, str], store_of_demo: str
) -> None:
    folder, _ = demo_run
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    done = subprocess.run(
        [sys.executable, "-m", "shipyard", "demo", "--quick", "--experiment", "again"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "unchanged: reused" in done.stdout
    assert [v.version for v in sy.data.versions("digits-train")] == [1]
    assert [v.version for v in sy.data.versions("digits-test")] == [1]
    again = sy.search_runs(filter="tags.`demo.role` = 'trial'", experiments=["again"])
    store = sy.Client().store
    for run_id in again["run_id"]:
        inputs = {(i.dataset, i.version) for i in store.get_run_inputs(str(run_id))}
        assert inputs == {("digits-train", 1), ("digits-test", 1)}


def test_forest_history_follows_the_trees(store_of_demo: str) -> None:
    forest = sy.search_runs(
        filter="params.model = 'random_forest' and tags.`demo.role` = 'trial'",
        experiments=["digits"],
    )
    run = sy.get_run(str(forest.iloc[0]["run_id"]))
    history = run.history("oob_accuracy")
    assert [point.step for point in history] == [5, 10, 15, 20]
    assert all(0.0 <= point.value <= 1.0 for point in history)


def test_demo_help_lists_its_options() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "shipyard", "demo", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "--quick" in done.stdout and "--uri" in done.stdout
