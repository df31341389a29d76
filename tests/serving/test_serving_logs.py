"""The server hands every answer to the prediction logger, under the id it answered with;
and a package folder (what ``shipyard build`` puts in an image) serves without a store."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shipyard.errors import DataCorruptionError
from shipyard.monitoring.prediction_log import read_prediction_logs
from shipyard.serving import ServeConfig, create_serving_app
from shipyard.serving.build_package import fetch_package
from shipyard.tracking.client import Client
from tests.serving.conftest import Registry
from tests.serving.support import serve_in_thread


def _metric(text: str, name: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    )


def test_answers_are_logged_under_their_request_ids(registry: Registry) -> None:
    config = ServeConfig("models:/digits@production", poll_interval=0, log_sample=1.0)
    app = create_serving_app(config, client=registry.client)
    x = registry.x[200:203]
    sent: dict[str, list[int]] = {}
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as http:
        body = {
            "id": "log-v2",
            "inputs": [{"name": "input", "datatype": "FP64", "shape": [3, 64], "data": x.tolist()}],
        }
        response = http.post("/v2/models/digits/infer", json=body)
        assert response.headers["x-request-id"] == "log-v2"
        sent["log-v2"] = response.json()["outputs"][0]["data"]
        response = http.post(
            "/invocations",
            json={"instances": x[:2].tolist()},
            headers={"X-Request-ID": "log-invocations"},
        )
        assert response.headers["x-request-id"] == "log-invocations"
        sent["log-invocations"] = response.json()["predictions"]
        generated = http.post("/invocations", json={"instances": x[:1].tolist()})
        sent[generated.headers["x-request-id"]] = generated.json()["predictions"]
        assert http.post("/invocations", json={"instances": [[1.0]]}).status_code == 400
    # Leaving the server closed the logger, which stored what it held.
    rows = [
        row
        for row in read_prediction_logs(registry.client, "digits").to_pylist()
        if row["request_id"] in sent
    ]
    assert {row["request_id"] for row in rows} == set(sent)
    for request_id, predictions in sent.items():
        mine = sorted((r for r in rows if r["request_id"] == request_id), key=lambda r: r["row"])
        assert [r["prediction"] for r in mine] == predictions
        assert {r["model_version"] for r in mine} == {1}
    v2 = [r for r in rows if r["request_id"] == "log-v2"]
    assert {r["endpoint"] for r in v2} == {"/v2/models/digits/infer"}
    assert v2[0]["input_5"] == x[0, 5]
    assert v2[0]["probability_0"] is not None


def test_the_logger_counts_show_in_metrics(registry: Registry) -> None:
    config = ServeConfig("models:/digits@production", poll_interval=0, log_sample=0.0)
    app = create_serving_app(config, client=registry.client)
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as http:
        for _ in range(3):
            http.post("/invocations", json={"instances": registry.x[:1].tolist()})
        text = http.get("/metrics").text
    assert _metric(text, "shipyard_serving_prediction_log_dropped_total") == 0
    assert _metric(text, "shipyard_serving_prediction_log_written_total") == 0
    assert "shipyard_serving_prediction_log_dropped_total" in text


def test_a_package_folder_serves_without_a_store(registry: Registry, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    fetch_package("models:/digits/2", folder, client=registry.client)
    nowhere = Client(str(tmp_path / "no-store"))
    config = ServeConfig(str(folder), name="digits", log_predictions=False)
    app = create_serving_app(config, client=nowhere)
    x = registry.x[:4]
    with serve_in_thread(app) as url:
        response = httpx.post(f"{url}/invocations", json={"instances": x.tolist()})
        assert response.json()["predictions"] == registry.expected("digits", 2, x).tolist()
        assert httpx.get(f"{url}/v2/models/digits").json()["inputs"][0]["shape"] == [-1, 64]
    assert not (tmp_path / "no-store").exists()

    manifest = json.loads((folder / "shipyard-model.json").read_text())
    (folder / next(iter(manifest["files"]))).write_bytes(b"tampered")
    with pytest.raises(DataCorruptionError, match="does not match"):
        create_serving_app(config, client=nowhere)
