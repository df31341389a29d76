"""Hostile input answers 400, never 500: lone surrogates, huge integers, deep filters,
artifact records that do not match the blobs, and impossible run updates."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from shipyard.store.hashing import hash_bytes
from tests.server.conftest import assert_error, create_experiment, create_run, unique

SURROGATE = "\\ud800"  # as JSON text: a lone UTF-16 surrogate once decoded


def _post_raw(client: httpx.Client, url: str, json_text: str) -> httpx.Response:
    return client.post(url, content=json_text, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    "body",
    [
        f'{{"tags": [{{"key": "t", "value": "{SURROGATE}"}}]}}',
        f'{{"params": [{{"key": "p", "value": "{SURROGATE}"}}]}}',
    ],
)
def test_a_lone_surrogate_in_logged_values_is_invalid_input(
    client: httpx.Client, body: str
) -> None:
    run = create_run(client)
    response = _post_raw(client, f"/api/v1/runs/{run['id']}/log-batch", body)
    assert_error(response, 400, "INVALID_INPUT")


def test_a_lone_surrogate_in_names_filters_and_ids_is_invalid_input(
    client: httpx.Client,
) -> None:
    experiment = create_experiment(client)
    checks = [
        ("/api/v1/experiments", f'{{"name": "x{SURROGATE}"}}'),
        ("/api/v1/runs", f'{{"experiment_id": "{experiment["id"]}", "name": "{SURROGATE}"}}'),
        ("/api/v1/runs", f'{{"experiment_id": "{SURROGATE}"}}'),
        ("/api/v1/runs/search", f'{{"filter": "tags.t = \'{SURROGATE}\'"}}'),
        ("/api/v1/runs/search", f'{{"experiment_ids": ["{SURROGATE}"]}}'),
    ]
    for url, body in checks:
        assert_error(_post_raw(client, url, body), 400, "INVALID_INPUT")


def _token(payload: dict[str, Any]) -> str:
    text = json.dumps(payload).encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


def test_forged_page_tokens_are_invalid_input(client: httpx.Client) -> None:
    response = client.get("/api/v1/experiments", params={"page_token": _token({"after": "\ud800"})})
    assert_error(response, 400, "INVALID_INPUT")
    for forged in ({"s": 0, "o": 2**70, "f": "x"}, {"s": 2**70, "k": [2**70], "f": "x"}):
        response = client.post("/api/v1/runs/search", json={"page_token": _token(forged)})
        assert_error(response, 400, "INVALID_INPUT")


@pytest.mark.parametrize(
    "filter_string",
    [
        "attributes.start_time > 99999999999999999999999",
        "end_time < -99999999999999999999999",
        "(" * 1000 + "metrics.a > 1" + ")" * 1000,
        " or ".join(["metrics.a > 1"] * 3000),
        "not " * 3000 + "metrics.a > 1",
        "not " * 2000 + "metrics.a > 1",
    ],
)
def test_huge_numbers_and_deep_or_long_filters_are_invalid_input(
    client: httpx.Client, filter_string: str
) -> None:
    response = client.post("/api/v1/runs/search", json={"filter": filter_string})
    assert_error(response, 400, "INVALID_FILTER")


def test_a_long_flat_filter_within_the_limit_works(client: httpx.Client) -> None:
    run = create_run(client)
    names = " or ".join(f"run_name = '{unique()}'" for _ in range(300))
    response = client.post(
        "/api/v1/runs/search", json={"filter": f"{names} or run_id = '{run['id']}'"}
    )
    assert response.status_code == 200, response.text
    assert [r["id"] for r in response.json()["runs"]] == [run["id"]]


def _upload(client: httpx.Client, data: bytes) -> str:
    digest = hash_bytes(data)
    assert client.put(f"/api/v1/blobs/{digest}", content=data).status_code == 200
    return digest


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ({"size": 99999999999999999999999}, "size"),
        ({"digest": "0" * 64}, "not stored"),
        ({"size": 3}, "size 3 differs"),
    ],
)
def test_artifact_records_must_match_stored_blobs(
    client: httpx.Client, entry: dict[str, Any], complaint: str
) -> None:
    run = create_run(client)
    data = b"some bytes"
    good = {"path": "model/file.bin", "size": len(data), "digest": _upload(client, data)}
    response = client.post(
        f"/api/v1/runs/{run['id']}/artifacts", json={"entries": [{**good, **entry}]}
    )
    message = assert_error(response, 400, "INVALID_INPUT")
    assert complaint in message
    if complaint != "size":
        assert "model/file.bin" in message
    listed = client.get(f"/api/v1/runs/{run['id']}/artifacts").json()["artifacts"]
    assert listed == []


def test_a_run_cannot_end_before_it_started(client: httpx.Client) -> None:
    run = create_run(client, start_time=1_700_000_000_000)
    response = client.patch(f"/api/v1/runs/{run['id']}", json={"end_time": 1_600_000_000_000})
    assert "before the run's start_time" in assert_error(response, 400, "INVALID_INPUT")
    response = client.patch(f"/api/v1/runs/{run['id']}", json={"end_time": 1_700_000_000_001})
    assert response.status_code == 200
    assert response.json()["end_time"] == 1_700_000_000_001


def test_openapi_has_one_operation_per_artifact_download_method(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    operations = spec["paths"]["/api/v1/runs/{run_id}/artifacts/file"]
    assert set(operations) == {"get", "head"}
    ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
