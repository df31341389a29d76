"""The server's own endpoints and the behaviours the API promises, over real HTTP."""

from __future__ import annotations

import math
import re
import uuid

import httpx
from pydantic import BaseModel

from shipyard._version import __version__
from shipyard.entities import Metric
from shipyard.server import schemas
from shipyard.store.hashing import hash_bytes
from shipyard.store.rest.store import RestStore
from tests.server.conftest import assert_error, create_experiment, create_run


def test_health(client: httpx.Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


def test_openapi_documents_every_route(client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()
    paths = document["paths"]
    for path, method in [
        ("/api/v1/experiments", "post"),
        ("/api/v1/experiments", "get"),
        ("/api/v1/experiments/by-name", "get"),
        ("/api/v1/experiments/{experiment_id}", "patch"),
        ("/api/v1/experiments/{experiment_id}/restore", "post"),
        ("/api/v1/experiments/{experiment_id}/tags", "put"),
        ("/api/v1/runs", "post"),
        ("/api/v1/runs/search", "post"),
        ("/api/v1/runs/keys", "get"),
        ("/api/v1/runs/{run_id}", "patch"),
        ("/api/v1/runs/{run_id}/log-batch", "post"),
        ("/api/v1/runs/{run_id}/metrics/history", "get"),
        ("/api/v1/runs/{run_id}/artifacts", "get"),
        ("/api/v1/runs/{run_id}/artifacts/file", "get"),
        ("/api/v1/blobs/{digest}", "put"),
        ("/health", "get"),
        ("/metrics", "get"),
    ]:
        assert method in paths[path], (path, method)
    schemas = document["components"]["schemas"]
    assert {"RunBody", "ErrorBody", "LogBatchBody", "SearchRunsBody"} <= set(schemas)
    # Error answers are documented in the one shape.
    get_run = paths["/api/v1/runs/{run_id}"]["get"]["responses"]
    assert get_run["404"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorBody")


def test_docs_page(client: httpx.Client) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert "swagger" in response.text.lower()
    assert "/openapi.json" in response.text


def _counter(text: str, method: str, route: str, status: int) -> float:
    pattern = (
        r"^shipyard_http_requests_total\{"
        rf'method="{method}",route="{re.escape(route)}",status="{status}"'
        r"\} (\S+)$"
    )
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_metrics_count_requests_by_route_template(client: httpx.Client) -> None:
    run = create_run(client)
    before = client.get("/metrics").text
    for _ in range(3):
        assert client.get(f"/api/v1/runs/{run['id']}").status_code == 200
    assert client.get("/api/v1/runs/no-such-run").status_code == 404
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text
    route = "/api/v1/runs/{run_id}"
    assert _counter(after, "GET", route, 200) - _counter(before, "GET", route, 200) == 3
    assert _counter(after, "GET", route, 404) - _counter(before, "GET", route, 404) == 1
    assert run["id"] not in after  # raw paths never become labels
    assert "shipyard_http_request_duration_seconds_bucket" in after
    assert "shipyard_http_request_errors" not in after  # derivable from the requests' status


def _upload_artifact(client: httpx.Client, run_id: str, path: str, data: bytes) -> None:
    digest = hash_bytes(data)
    assert client.put(f"/api/v1/blobs/{digest}", content=data).status_code == 200
    response = client.post(
        f"/api/v1/runs/{run_id}/artifacts",
        json={"entries": [{"path": path, "size": len(data), "digest": digest}]},
    )
    assert response.status_code == 204, response.text


def test_artifact_listing_and_range_download(client: httpx.Client) -> None:
    run = create_run(client)
    data = bytes(range(256)) * 1000
    _upload_artifact(client, run["id"], "model/weights.bin", data)
    _upload_artifact(client, run["id"], "notes.txt", b"hello")

    listing = client.get(f"/api/v1/runs/{run['id']}/artifacts", params={"prefix": "model"})
    assert [entry["path"] for entry in listing.json()["artifacts"]] == ["model/weights.bin"]

    url = f"/api/v1/runs/{run['id']}/artifacts/file"
    whole = client.get(url, params={"path": "model/weights.bin"})
    assert whole.status_code == 200
    assert whole.content == data
    assert whole.headers["accept-ranges"] == "bytes"
    assert "weights.bin" in whole.headers["content-disposition"]

    part = client.get(url, params={"path": "model/weights.bin"}, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.content == data[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(data)}"

    tail = client.get(url, params={"path": "model/weights.bin"}, headers={"Range": "bytes=-5"})
    assert tail.status_code == 206 and tail.content == data[-5:]

    past_end = client.get(url, params={"path": "notes.txt"}, headers={"Range": "bytes=100-"})
    assert past_end.status_code == 416
    assert past_end.headers["content-range"] == "bytes */5"

    head = client.head(url, params={"path": "model/weights.bin"})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(data))

    entry = client.get(f"/api/v1/runs/{run['id']}/artifacts/entry", params={"path": "notes.txt"})
    assert entry.json() == {"path": "notes.txt", "size": 5, "digest": hash_bytes(b"hello")}

    missing = client.get(url, params={"path": "nothing.txt"})
    assert "nothing.txt" in assert_error(missing, 404, "NOT_FOUND")


def test_retried_log_batch_with_one_key_is_stored_once(client: httpx.Client) -> None:
    run = create_run(client)
    key = uuid.uuid4().hex
    body = {"metrics": [{"key": "loss", "value": 1.0 / (i + 1), "step": i} for i in range(5)]}
    for _ in range(2):
        response = client.post(
            f"/api/v1/runs/{run['id']}/log-batch", json=body, headers={"Idempotency-Key": key}
        )
        assert response.status_code == 204
    history = client.get(f"/api/v1/runs/{run['id']}/metrics/history", params={"key": "loss"}).json()
    assert history["steps"] == [0, 1, 2, 3, 4]


def test_retried_create_with_one_key_returns_the_first_answer(client: httpx.Client) -> None:
    experiment = create_experiment(client)
    key = uuid.uuid4().hex
    body = {"experiment_id": experiment["id"], "name": "once"}
    answers = [
        client.post("/api/v1/runs", json=body, headers={"Idempotency-Key": key}) for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    search = client.post("/api/v1/runs/search", json={"experiment_ids": [experiment["id"]]})
    assert len(search.json()["runs"]) == 1
    reused = client.post(
        "/api/v1/runs",
        json={**body, "name": "another"},
        headers={"Idempotency-Key": key},
    )
    assert "Idempotency-Key" in assert_error(reused, 409, "CONFLICT")


def test_non_finite_metric_values_travel_as_strings(server_url: str, client: httpx.Client) -> None:
    # Raw JSON in, RestStore out.
    run = create_run(client)
    values = ["NaN", "Infinity", "-Infinity", 1.5]
    response = client.post(
        f"/api/v1/runs/{run['id']}/log-batch",
        json={"metrics": [{"key": "m", "value": v, "step": i} for i, v in enumerate(values)]},
    )
    assert response.status_code == 204, response.text
    raw = client.get(f"/api/v1/runs/{run['id']}/metrics/history", params={"key": "m"})
    assert raw.json()["values"] == values
    with RestStore(server_url) as store:
        history = store.get_metric_history(run["id"], "m")
        assert math.isnan(history[0].value)
        assert [p.value for p in history[1:]] == [math.inf, -math.inf, 1.5]

        # RestStore in, raw JSON out: the latest value of each metric too.
        store.log_batch(
            run["id"],
            metrics=[
                Metric("n", math.nan, 0),
                Metric("pos", math.inf, 0),
                Metric("neg", -math.inf),
            ],
        )
        assert math.isnan(store.get_run(run["id"]).metrics["n"].value)
    latest = client.get(f"/api/v1/runs/{run['id']}").json()["metrics"]
    assert [latest[k]["value"] for k in ("n", "pos", "neg", "m")] == [
        "NaN",
        "Infinity",
        "-Infinity",
        1.5,
    ]


def test_answers_match_their_documented_models(client: httpx.Client) -> None:
    """The JSON the routes build by hand is what /openapi.json promises."""
    run = create_run(client, name="documented", tags={"team": "vision"})
    run_url = f"/api/v1/runs/{run['id']}"
    client.post(
        f"{run_url}/log-batch",
        json={"metrics": [{"key": "acc", "value": "NaN"}], "params": [{"key": "p", "value": "1"}]},
    )
    checks: list[tuple[type[BaseModel], httpx.Response]] = [
        (schemas.RunBody, client.get(run_url)),
        (schemas.RunBody, client.patch(run_url, json={"status": "FINISHED"})),
        (schemas.RunPage, client.post("/api/v1/runs/search", json={"max_results": 5})),
        (schemas.ExperimentBody, client.get(f"/api/v1/experiments/{run['experiment_id']}")),
        (schemas.ExperimentPage, client.get("/api/v1/experiments")),
        (schemas.MetricHistory, client.get(f"{run_url}/metrics/history", params={"key": "acc"})),
        (schemas.ArtifactList, client.get(f"{run_url}/artifacts")),
        (
            schemas.RunKeysBody,
            client.get("/api/v1/runs/keys", params={"experiment_id": run["experiment_id"]}),
        ),
    ]
    for model, response in checks:
        assert response.status_code == 200, response.text
        model.model_validate(response.json())
    finished = schemas.RunBody.model_validate(checks[1][1].json())
    assert finished.status == "FINISHED" and finished.end_time is not None
    assert math.isnan(finished.metrics["acc"].value)
    assert checks[-1][1].json() == {"metrics": ["acc"], "params": ["p"], "tags": ["team"]}
