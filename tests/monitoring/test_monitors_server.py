"""``shipyard server --monitors``: the tracking server runs due monitors in a thread and serves
their gauges on /metrics; reports and monitors also work through the REST store."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from shipyard.monitoring.monitors import add_monitor, list_monitors, remove_monitor
from shipyard.monitoring.report_service import report
from shipyard.monitoring.reports import get_report
from shipyard.tracking.client import Client
from tests.monitoring.conftest import MonitoredServer


def _samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def _wait_for_report(remote: Client, monitor_id: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not remote.store.list_reports(monitor_id=monitor_id).items:
        assert time.monotonic() < deadline, "the server's scheduler stored no report"
        time.sleep(0.2)


def test_the_server_runs_due_monitors_and_exports_gauges(
    monitored_server: MonitoredServer,
) -> None:
    with Client(monitored_server.url) as remote:
        _wait_for_report(remote, monitored_server.monitor_id)
        [stored] = remote.store.list_reports(monitor_id=monitored_server.monitor_id).items
        monitor = remote.store.get_monitor(monitored_server.monitor_id)
    assert monitor.state == "drift" and monitor.last_run_at is not None
    assert stored.dataset_drift and stored.model_name == "digits" and stored.model_version == 1

    text = httpx.get(f"{monitored_server.url}/metrics", timeout=10).text
    labels = (("model", "digits"), ("monitor", monitored_server.monitor_id), ("version", "1"))
    assert _samples(text, "shipyard_monitor_drift_share")[labels] == stored.drift_share
    assert _samples(text, "shipyard_monitor_dataset_drift")[labels] == 1.0
    assert _samples(text, "shipyard_monitor_rows")[labels] == 200.0
    alerting = _samples(text, "shipyard_monitor_alerting")
    key = (
        ("model_uri", "models:/digits@production"),
        ("monitor", monitored_server.monitor_id),
        ("state", "drift"),
    )
    assert alerting[key] == 1.0
    assert "shipyard_http_requests_total" in text  # the server's own metrics stay


def test_reports_and_monitors_through_the_rest_store(monitored_server: MonitoredServer) -> None:
    with Client(monitored_server.url) as remote:
        result = report("models:/digits@production", window="1h", client=remote)
        assert result.status == "drift" and result.id is not None
        again = get_report(result.id, client=remote)
        assert again.drift.drifted_columns == result.drift.drifted_columns
        page = b"".join(remote.blob_store.open(again.html_digest or "")).decode()
        assert "Monitoring report: models:/digits@production" in page

        added = add_monitor(
            "models:/digits/1",
            "1d",
            thresholds={"accuracy_drop": 0.1},
            start_at=2**40,
            client=remote,
        )
        assert added.id in [m.id for m in list_monitors(client=remote)]
        assert remove_monitor(added.id[:10], client=remote).id == added.id
        assert added.id not in [m.id for m in list_monitors(client=remote)]


def test_monitors_need_a_single_worker_server(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from shipyard.cli.main import cli

    result = CliRunner().invoke(
        cli, ["server", "--monitors", "--workers", "2", "--store", str(tmp_path / "s")]
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: --monitors needs one worker: run `shipyard monitor run` beside"
    )
    assert not (tmp_path / "s").exists()
