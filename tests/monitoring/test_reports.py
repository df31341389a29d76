"""Reports from the prediction logs of a real ``shipyard serve``: normal traffic is not drift,
noisy digits are; the report is stored (JSON, HTML, row) and the CLI exits 3 on drift."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from shipyard.cli.main import cli
from shipyard.errors import InvalidInputError
from shipyard.monitoring.report_service import NoPredictionsError, report
from shipyard.monitoring.reports import MonitorReport, get_report
from tests.monitoring.conftest import Registry, Traffic


def test_normal_traffic_shows_no_drift(registry: Registry, traffic: Traffic) -> None:
    normal = traffic.normal
    result = report(
        "models:/digits@production",
        since=normal.start_ms,
        until=normal.end_ms,
        client=registry.client,
    )
    assert result.rows == normal.rows
    assert not result.dataset_drift and not result.prediction_drift
    assert result.drift.drifted_share < 0.5
    assert result.status == "ok" and result.ok
    # The run read digits-test and digits-train: the training set is the reference.
    assert result.reference == "datasets:/digits-train/1"
    assert result.target == "target"
    assert result.by_position
    assert result.column_mapping["input_0"] == "pixel_0"
    assert result.column_mapping["input_63"] == "pixel_63"
    assert len(result.drift.columns) == 64
    assert result.prediction_reference == "model"
    assert result.drift.prediction[0].column == "prediction"


def test_noisy_digits_drift_and_the_report_is_stored(
    registry: Registry, traffic: Traffic, tmp_path: Path
) -> None:
    noisy = traffic.drifted
    result = report(
        "models:/digits@production",
        since=noisy.start_ms,
        until=noisy.end_ms,
        client=registry.client,
    )
    assert result.dataset_drift and result.status == "drift"
    assert result.drift.drifted_share > 0.9
    assert result.quality.labelled_rows == 0 and result.quality.note == "no labels yet"

    store = registry.client.store
    record = store.get_report(result.id or "")
    assert record.model_name == "digits" and record.model_version == 1
    assert record.dataset_drift and record.drift_share == pytest.approx(result.drift.drifted_share)
    assert record.reference == "datasets:/digits-train/1"
    assert record.row_count == noisy.rows
    assert record.window_start == noisy.start_ms and record.window_end == noisy.end_ms
    assert record.summary["status"] == "drift"
    assert record.summary["drifted_count"] == len(result.drift.drifted_columns)

    page = b"".join(registry.client.blob_store.open(record.html_digest or "")).decode()
    assert page.startswith("<!doctype html>") and "<script" not in page
    assert "datasets:/digits-train/1" in page and "input_0 → pixel_0" in page
    assert page.count("<svg") >= 64  # a reference-vs-current histogram per column

    again = get_report(record.id, client=registry.client)
    assert again.status == "drift" and again.drift.drifted_columns == result.drift.drifted_columns
    assert again.column_mapping == result.column_mapping and again.id == record.id
    assert MonitorReport.from_dict(json.loads(result.to_json())).to_dict() == result.to_dict()


def test_the_cli_exits_3_on_drift_and_0_without(
    registry: Registry, traffic: Traffic, tmp_path: Path
) -> None:
    runner = CliRunner()
    env = registry.env
    noisy, normal = traffic.drifted, traffic.normal
    html = tmp_path / "drift.html"
    result = runner.invoke(
        cli,
        [
            "monitor",
            "report",
            "models:/digits@production",
            "--since",
            str(noisy.start_ms),
            "--until",
            str(noisy.end_ms),
            "--html",
            str(html),
        ],
        env=env,
    )
    assert result.exit_code == 3, result.output
    assert "drift" in result.stdout and "datasets:/digits-train/1" in result.stdout
    assert "pixel_" in result.stdout  # the drifted columns
    assert "<svg" in html.read_text()

    result = runner.invoke(
        cli,
        [
            "monitor",
            "report",
            "models:/digits/1",
            "--since",
            str(normal.start_ms),
            "--until",
            str(normal.end_ms),
            "--json",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["status"] == "ok" and printed["rows"] == normal.rows

    listed = runner.invoke(cli, ["monitor", "reports", "digits", "--json"], env=env)
    assert listed.exit_code == 0
    assert printed["id"] in [r["id"] for r in json.loads(listed.stdout)]
    shown = runner.invoke(cli, ["monitor", "show", printed["id"]], env=env)
    assert shown.exit_code == 0 and "ok" in shown.stdout


def test_the_newest_rows_and_an_explicit_reference(registry: Registry, traffic: Traffic) -> None:
    # The newest rows are the mislabelled phase: the test digits again, so no drift.
    result = report(
        "models:/digits@production",
        last=100,
        reference="datasets:/digits-test/1",
        store=False,
        client=registry.client,
    )
    assert result.rows == 100 and result.id is None
    assert result.reference == "datasets:/digits-test/1" and result.reference_reason == "given"
    assert not result.dataset_drift


def test_mistakes_are_one_clear_error(registry: Registry, traffic: Traffic) -> None:
    client = registry.client
    with pytest.raises(NoPredictionsError, match="no logged predictions of digits version 1"):
        report("models:/digits/1", since=1, until=2, client=client)
    with pytest.raises(InvalidInputError, match="drift_share"):
        report("models:/digits/1", thresholds={"drift_share": 2}, client=client)
    with pytest.raises(InvalidInputError, match="not several"):
        report("models:/digits/1", window="1h", last=5, client=client)
    with pytest.raises(InvalidInputError, match="no target column"):
        report("models:/digits/1", target="nope", client=client)
    result = CliRunner().invoke(
        cli, ["monitor", "report", "models:/digits/1", "--window", "soon"], env=registry.env
    )
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("Error: a duration must be like 24h")
    assert "Traceback" not in result.output


def test_the_python_api_is_sy_monitoring() -> None:
    import shipyard as sy

    assert sy.monitoring.report is report and sy.monitoring.get_report is get_report
    assert "monitoring" in dir(sy)
