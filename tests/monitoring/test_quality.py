"""Quality once labels arrive: live scores against the evaluation the version was promoted on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression

import shipyard as sy
from shipyard.cli.main import cli
from shipyard.monitoring.feedback import record_feedback
from shipyard.monitoring.report_service import report
from shipyard.tracking.client import Client
from tests.monitoring.conftest import Registry, Traffic


def test_true_labels_score_as_at_promotion(registry: Registry, traffic: Traffic) -> None:
    normal = traffic.normal
    result = report(
        "models:/digits@production",
        since=normal.start_ms,
        until=normal.end_ms,
        store=False,
        client=registry.client,
    )
    quality = result.quality
    assert quality.labelled_rows == normal.rows and quality.task == "classification"
    baseline = quality.baseline
    assert baseline is not None and baseline.source == "promotion"
    [decision] = registry.client.store.list_promotion_decisions("digits")
    assert baseline.decision_id == decision.id
    assert baseline.evaluation_id == decision.candidate_evaluation_id
    assert baseline.dataset == "datasets:/digits-test/1"
    # The same model on the same digits: the live scores are the promotion's.
    compared = {c.metric: c for c in quality.comparisons}
    assert set(compared) == {"accuracy", "f1_macro", "roc_auc"}
    for c in compared.values():
        assert c.current == pytest.approx(c.baseline) and not c.dropped
    assert not result.quality_drop and result.status == "ok"


def test_wrong_labels_are_a_quality_drop(registry: Registry, traffic: Traffic) -> None:
    wrong = traffic.mislabelled
    window = {"since": wrong.start_ms, "until": wrong.end_ms}
    result = report("models:/digits@production", **window, client=registry.client)
    assert not result.dataset_drift  # the inputs are the test digits
    assert result.quality_drop and result.status == "quality_drop"
    accuracy = next(c for c in result.quality.comparisons if c.metric == "accuracy")
    assert accuracy.dropped and accuracy.current < 0.2 < accuracy.baseline
    assert accuracy.worse_by == pytest.approx(accuracy.baseline - accuracy.current)
    assert result.summary()["quality"]["accuracy"]["dropped"] is True
    stored = registry.client.store.get_report(result.id or "")
    assert stored.summary["status"] == "quality_drop" and not stored.dataset_drift

    # Too few labels to judge, or a generous threshold: shown, not a drop.
    lenient = report(
        "models:/digits@production",
        **window,
        thresholds={"min_labels": 10_000},
        store=False,
        client=registry.client,
    )
    assert lenient.status == "ok" and "a drop counts from 10000" in (lenient.quality.note or "")
    generous = report(
        "models:/digits@production",
        **window,
        thresholds={"accuracy_drop": 1, "f1_macro_drop": 1, "roc_auc_drop": 1},
        store=False,
        client=registry.client,
    )
    assert generous.status == "ok"

    code = CliRunner().invoke(
        cli,
        [
            "monitor",
            "report",
            "models:/digits@production",
            "--since",
            str(wrong.start_ms),
            "--until",
            str(wrong.end_ms),
            "--no-store",
        ],
        env=registry.env,
    )
    assert code.exit_code == 3 and "dropped" in code.stdout


def _regression_registry(client: Client) -> tuple[LinearRegression, np.ndarray, np.ndarray]:
    x, y = load_diabetes(return_X_y=True, as_frame=True)
    train = pd.concat([x[:300], y[:300]], axis=1)
    test = pd.concat([x[300:], y[300:]], axis=1)
    sy.data.log_table(train, "diabetes-train", client=client)
    sy.data.log_table(test, "diabetes-holdout", client=client)
    with client.start_run(experiment="monitoring-tests", capture=False) as run:
        frame = sy.data.load_table("datasets:/diabetes-train/1", client=client)
        model = LinearRegression().fit(frame[x.columns], frame["target"])
        run.log_model(model, input_example=x[:3], registered_model_name="diabetes")
    sy.evaluate(
        "models:/diabetes/1", "datasets:/diabetes-holdout/1", target="target", client=client
    )
    return model, x[300:].to_numpy(), y[300:].to_numpy()


def test_regression_errors_against_the_evaluation(tmp_path: Path) -> None:
    from shipyard.monitoring.prediction_log import PredictionLogger

    with Client(str(tmp_path / "store")) as client:
        model, x, y = _regression_registry(client)
        columns = list(load_diabetes(as_frame=True).data.columns)
        with PredictionLogger(client, "diabetes", flush_seconds=60) as logger:
            for i in range(len(x)):
                row = pd.DataFrame(x[i : i + 1], columns=columns)
                logger.submit(f"r{i}", 1_000 + i, 1, "/invocations", row, model.predict(row), 1.0)
            assert logger.flush(30)
        record_feedback(client, "diabetes", [(f"r{i}", float(y[i])) for i in range(60)])
        honest = report("models:/diabetes/1", since=0, store=False, client=client)
        assert honest.quality.task == "regression" and honest.quality.labelled_rows == 60
        assert honest.reference == "datasets:/diabetes-train/1"  # holdout: evaluated on
        assert not honest.by_position and honest.column_mapping["bmi"] == "bmi"
        assert {c.metric for c in honest.quality.comparisons} == {"mae", "rmse"}
        assert honest.quality.baseline is not None
        assert honest.quality.baseline.source == "evaluation"
        assert not honest.quality_drop

        # Labels far from the predictions: the error grows far past 10% of the baseline's.
        record_feedback(client, "diabetes", [(f"r{i}", float(y[i]) + 150) for i in range(60)])
        off = report("models:/diabetes/1", since=0, store=False, client=client)
        rmse = next(c for c in off.quality.comparisons if c.metric == "rmse")
        assert rmse.dropped and rmse.threshold == pytest.approx(0.1 * rmse.baseline)
        assert off.status == "quality_drop"
