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


def test_demo_releases_the_best_model_through_the_gate(store_of_demo: str) -> None:
    output = store_of_demo
    assert "Release: through the evaluation gate" in output
    assert "PROMOTED digits/1 as digits@production" in output
    assert "REFUSED digits/2 as digits@production" in output
    assert "shipyard models lineage digits@production" in output

    board = sy.search_runs(
        filter="metrics.test_accuracy >= 0",
        order_by=["metrics.test_accuracy DESC", "metrics.test_f1_macro DESC"],
        experiments=["digits"],
    )
    store = sy.Client().store
    assert store.get_registered_model("digits").aliases == {"production": 1}
    best, weakest = store.get_model_version("digits", 1), store.get_model_version("digits", 2)
    assert best.run_id == str(board.iloc[0]["run_id"])
    assert weakest.run_id == str(board.iloc[-1]["run_id"])

    decisions = store.list_promotion_decisions("digits", "production")
    assert [(d.candidate_version, d.promoted) for d in decisions] == [(2, False), (1, True)]
    refused, promoted = decisions
    assert refused.incumbent_version == 1 and promoted.incumbent_version is None
    assert refused.candidate_score < refused.incumbent_score  # type: ignore[operator]
    assert refused.incumbent_score == promoted.candidate_score
    assert (refused.dataset, refused.dataset_version) == ("digits-test", 1)

    # The gate's evaluation agrees with what the run measured on the same held-out split.
    evaluation = store.get_evaluation(promoted.candidate_evaluation_id)
    assert (evaluation.model_name, evaluation.model_version) == ("digits", 1)
    assert evaluation.row_count == 150
    assert evaluation.metrics["accuracy"] == pytest.approx(board.iloc[0]["metrics.test_accuracy"])
    assert "confusion_matrix.png" in evaluation.plots
    (event,) = store.list_alias_events("digits", "production")
    assert event.to_version == 1 and event.reason == promoted.reason
    assert "best of the sweep" in event.reason


def _cells(output: str, first: str) -> list[str]:
    """The cells of the table row of ``output`` whose first cell is ``first``."""
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("│")]
        cells = [cell for cell in cells if cell]
        if cells and cells[0] == first:
            return cells[1:]
    raise AssertionError(f"no table row {first!r} in the output")


def test_demo_serves_the_promoted_version_and_logs_its_traffic(store_of_demo: str) -> None:
    output = store_of_demo
    assert "In service: served, watched" in output
    store = sy.Client().store
    promoted = store.get_registered_model("digits").aliases["production"]
    assert f"Served models:/digits@production (digits/{promoted})" in output
    # requests, rows, p50, p99, answered by (the Shipyard-Model-Version header), logged
    # rows, labelled rows, live accuracy
    held_out, drifted = _cells(output, "held-out digits"), _cells(output, "drifted digits")
    for row in (held_out, drifted):
        assert row[1] == "150" and int(row[0]) > 100  # singles, then batches
        assert 0 < float(row[2]) <= float(row[3])
        assert row[4] == f"digits/{promoted}"
        assert row[5] == row[6] == "150"
    # The held-out digits score as the gate scored them; the drifted ones worse.
    evaluation = store.get_evaluation(
        store.list_promotion_decisions("digits", "production")[-1].candidate_evaluation_id
    )
    assert float(held_out[7]) == pytest.approx(evaluation.metrics["accuracy"], abs=1e-4)
    assert float(drifted[7]) < float(held_out[7])

    from shipyard.monitoring.prediction_log import read_prediction_logs

    logs = read_prediction_logs(None, "digits", with_feedback=True)
    assert logs.num_rows == 300
    assert set(logs.column("model_version").to_pylist()) == {promoted}
    labels, predictions = logs.column("label").to_pylist(), logs.column("prediction").to_pylist()
    assert None not in labels
    right = sum(p == label for p, label in zip(predictions, labels, strict=True))
    assert right == round(150 * float(held_out[7])) + round(150 * float(drifted[7]))


def test_demo_reports_drift_only_on_the_drifted_traffic(store_of_demo: str) -> None:
    output = store_of_demo
    assert "monitoring reports of models:/digits@production against datasets:/digits-train/1" in (
        output
    )
    assert _cells(output, "dataset drift") == ["no", "YES"]
    normal_status, drifted_status = _cells(output, "status")
    assert normal_status == "ok" and drifted_status.startswith("drift")
    assert "shipyard monitor report models:/digits@production" in output

    # Both reports are stored, linked to the served version, with their verdicts.
    store = sy.Client().store
    normal_id, drifted_id = _cells(output, "report id")
    normal, drifted = store.get_report(normal_id), store.get_report(drifted_id)
    promoted = store.get_registered_model("digits").aliases["production"]
    for report in (normal, drifted):
        assert (report.model_name, report.model_version) == ("digits", promoted)
        assert report.reference == "datasets:/digits-train/1"
        assert report.row_count == 150
    assert not normal.dataset_drift and drifted.dataset_drift
    assert drifted.drift_share is not None and drifted.drift_share >= 0.5
    assert f"/monitoring/reports/{drifted_id}" in output
    reread = sy.monitoring.get_report(drifted_id)
    assert reread.quality.labelled_rows == 150
    assert reread.column_mapping["input_0"] == "pixel_0" and reread.by_position


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
    # Each experiment releases its own model: "again" starts with no production version.
    assert "PROMOTED again/1 as again@production" in done.stdout
    # ... and serves it under its own name, logged apart from "digits".
    assert _cells(done.stdout, "held-out digits")[4] == "again/1"
    assert _cells(done.stdout, "dataset drift") == ["no", "YES"]
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
