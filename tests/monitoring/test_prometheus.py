"""System health: the shipped Prometheus config, alert rules and Grafana dashboard are valid,
the rules fire as described, and a real Prometheus scrapes a real ``shipyard serve`` and a
``shipyard server --monitors`` and answers queries on their metrics."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.monitoring.conftest import MonitoredServer, Registry
from tests.serving.live import ServeProcess
from tests.support.live_server import free_port

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed")
needs_prometheus = pytest.mark.skipif(PROMETHEUS is None, reason="prometheus is not installed")


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60)


@needs_promtool
def test_the_shipped_config_and_rules_are_valid() -> None:
    rules = _promtool("check", "rules", str(DEPLOY / "alerts.yml"))
    assert rules.returncode == 0, rules.stdout + rules.stderr
    assert "SUCCESS: 8 rules found" in rules.stdout
    config = _promtool("check", "config", str(DEPLOY / "prometheus.yml"))
    assert config.returncode == 0, config.stdout + config.stderr


def _alert(name: str, labels: dict[str, str], summary: str, description: str) -> dict[str, Any]:
    return {
        "alertname": name,
        "exp_alerts": [
            {
                "exp_labels": labels,
                "exp_annotations": {"summary": summary, "description": description},
            }
        ],
    }


@needs_promtool
def test_the_alert_rules_fire_as_described(tmp_path: Path) -> None:
    requests = 'shipyard_serving_requests_total{model="digits",version="1",endpoint="/invocations"'
    bucket = 'shipyard_serving_request_duration_seconds_bucket{model="digits",endpoint="/infer"'
    drift = '{model="digits",version="1",monitor="m1"}'
    tests = {
        "rule_files": [str(DEPLOY / "alerts.yml")],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": requests + ',status="200"}', "values": "0+90x30"},
                    {"series": requests + ',status="500"}', "values": "0+10x30"},
                    # Every request takes between 0.25 s and 1 s: p99 near 1 s.
                    {"series": bucket + ',le="0.25"}', "values": "0x30"},
                    {"series": bucket + ',le="1"}', "values": "0+100x30"},
                    {"series": bucket + ',le="+Inf"}', "values": "0+100x30"},
                    {"series": f"shipyard_monitor_drift_share{drift}", "values": "0.1x4 0.8x25"},
                    {"series": f"shipyard_monitor_dataset_drift{drift}", "values": "0x4 1x25"},
                    {"series": f"shipyard_monitor_quality_drop{drift}", "values": "0x30"},
                ],
                "alert_rule_test": [
                    {"eval_time": "3m", "alertname": "ShipyardModelDataDrift", "exp_alerts": []},
                    _alert(
                        "ShipyardModelHighErrorRate",
                        {"severity": "critical", "model": "digits"},
                        "Model digits: 10% of requests fail",
                        "More than 5% of the requests to model server digits answered with a "
                        "5xx status over the last 5 minutes.",
                    )
                    | {"eval_time": "20m"},
                    _alert(
                        "ShipyardModelHighLatencyP99",
                        {"severity": "warning", "model": "digits"},
                        "Model digits: p99 latency 992.5ms",
                        "The 99th percentile of request latency of digits has been above "
                        "500 ms for 10 minutes.",
                    )
                    | {"eval_time": "20m"},
                    _alert(
                        "ShipyardModelDataDrift",
                        {"severity": "warning", "model": "digits", "version": "1", "monitor": "m1"},
                        "Model digits v1: input drift",
                        "80% of the feature columns of digits version 1 drifted from the "
                        "reference (monitor m1). See `shipyard monitor reports digits`.",
                    )
                    | {"eval_time": "10m"},
                    {"eval_time": "10m", "alertname": "ShipyardModelQualityDrop", "exp_alerts": []},
                ],
            }
        ],
    }
    path = tmp_path / "alerts_test.yml"
    path.write_text(json.dumps(tests))  # JSON is YAML
    result = _promtool("test", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def _expressions() -> list[str]:
    """Every PromQL expression shipped: the dashboard's (variables filled in) and the rules'."""
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    found = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    rules = (DEPLOY / "alerts.yml").read_text()
    found += re.findall(r"expr: \|\n((?:          .*\n)+)", rules)
    found += re.findall(r"expr: ([^|\n].*)\n", rules)
    return [e.replace("$model", ".*").replace("$__rate_interval", "1m").strip() for e in found]


def test_the_dashboard_shows_metrics_that_exist() -> None:
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    assert dashboard["uid"] == "shipyard-models"
    assert {v["name"] for v in dashboard["templating"]["list"]} == {"datasource", "model"}
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    names = set(re.findall(r"\b(shipyard_[a-z_]+)", " ".join(_expressions())))
    known = {
        "shipyard_serving_requests_total",
        "shipyard_serving_request_duration_seconds_bucket",
        "shipyard_serving_inference_duration_seconds_bucket",
        "shipyard_serving_batch_rows_sum",
        "shipyard_serving_batch_rows_count",
        "shipyard_serving_in_flight_requests",
        "shipyard_serving_prediction_log_written_total",
        "shipyard_serving_prediction_log_dropped_total",
        "shipyard_serving_model_info",
        "shipyard_monitor_drift_share",
        "shipyard_monitor_dataset_drift",
        "shipyard_monitor_quality_drop",
        "shipyard_monitor_quality",
        "shipyard_monitor_rows",
        "shipyard_monitor_alerting",
    }
    assert names <= known, names - known
    assert {"shipyard_serving_requests_total", "shipyard_monitor_drift_share"} <= names


@pytest.fixture
def prometheus(
    tmp_path: Path, served: ServeProcess, monitored_server: MonitoredServer
) -> Iterator[str]:
    """A real Prometheus scraping both servers every second; its base URL."""
    assert PROMETHEUS is not None
    port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(DEPLOY / "alerts.yml")],
        "scrape_configs": [
            {
                "job_name": "shipyard-serving",
                "static_configs": [{"targets": [served.url.removeprefix("http://")]}],
            },
            {
                "job_name": "shipyard-server",
                "static_configs": [{"targets": [monitored_server.url.removeprefix("http://")]}],
            },
        ],
    }
    (tmp_path / "prometheus.yml").write_text(json.dumps(config))
    log = (tmp_path / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp_path / "prometheus.log").read_text())
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _query(url: str, expr: str) -> dict[str, Any]:
    response = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=10)
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and body["status"] == "success", (expr, body)
    return body


def _wait_for(url: str, expr: str, timeout: float = 20.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        result: list[dict[str, Any]] = _query(url, expr)["data"]["result"]
        if result:
            return result
        assert time.monotonic() < deadline, f"Prometheus has no {expr} after {timeout} s"
        time.sleep(0.25)


@needs_prometheus
def test_prometheus_scrapes_the_model_server_and_the_monitors(
    prometheus: str, registry: Registry, served: ServeProcess, monitored_server: MonitoredServer
) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as http:
        for i in range(3):
            x = registry.data.x_test[i : i + 2].tolist()
            assert http.post("/invocations", json={"instances": x}).status_code == 200
    answered = _wait_for(
        prometheus,
        'sum by (model) (shipyard_serving_requests_total{model="digits",status="200"})',
    )
    assert answered[0]["metric"] == {"model": "digits"} and float(answered[0]["value"][1]) >= 3
    up = _wait_for(prometheus, 'up{job="shipyard-serving"} == 1')
    assert up[0]["metric"]["instance"] == served.url.removeprefix("http://")

    # The monitored server's scheduler reported drift: its gauge reaches Prometheus.
    drift = _wait_for(prometheus, "shipyard_monitor_dataset_drift == 1", timeout=60)
    assert drift[0]["metric"]["model"] == "digits"
    assert drift[0]["metric"]["monitor"] == monitored_server.monitor_id
    share = _wait_for(prometheus, "shipyard_monitor_drift_share")
    assert float(share[0]["value"][1]) > 0.5

    # Every shipped expression is valid PromQL for this Prometheus.
    for expr in _expressions():
        _query(prometheus, expr)
