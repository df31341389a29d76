"""Every error the API can produce has one JSON shape and the matching status."""

from __future__ import annotations

import httpx
import pytest

from shipyard import errors
from shipyard.errors import ShipyardError, error_from_payload
from tests.server.conftest import assert_error, create_experiment, create_run, unique


def test_unknown_experiment_is_404(client: httpx.Client) -> None:
    message = assert_error(client.get("/api/v1/experiments/nope"), 404, "NOT_FOUND")
    assert "nope" in message


def test_unknown_experiment_name_is_404(client: httpx.Client) -> None:
    response = client.get("/api/v1/experiments/by-name", params={"name": "no such name"})
    assert "no such name" in assert_error(response, 404, "NOT_FOUND")


def test_unknown_run_is_404(client: httpx.Client) -> None:
    assert "nope" in assert_error(client.get("/api/v1/runs/nope"), 404, "NOT_FOUND")
    response = client.post("/api/v1/runs/nope/log-batch", json={"metrics": []})
    assert_error(response, 404, "NOT_FOUND")


def test_unknown_route_is_404(client: httpx.Client) -> None:
    message = assert_error(client.get("/api/v1/nothing-here"), 404, "NOT_FOUND")
    assert "/api/v1/nothing-here" in message
    assert_error(client.get("/api/v1/runs/"), 404, "NOT_FOUND")


def test_wrong_method_is_405(client: httpx.Client) -> None:
    response = client.put("/api/v1/runs/search")
    message = assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "PUT" in message
    assert "POST" in response.headers["allow"]
    assert_error(client.delete("/health"), 405, "METHOD_NOT_ALLOWED")


def test_duplicate_experiment_name_is_409(client: httpx.Client) -> None:
    name = unique()
    assert client.post("/api/v1/experiments", json={"name": name}).status_code == 201
    response = client.post("/api/v1/experiments", json={"name": name})
    assert name in assert_error(response, 409, "ALREADY_EXISTS")


def test_param_conflict_is_409_naming_both_values(client: httpx.Client) -> None:
    run = create_run(client)
    url = f"/api/v1/runs/{run['id']}/log-batch"
    first = client.post(url, json={"params": [{"key": "lr", "value": "0.125"}]})
    assert first.status_code == 204
    second = client.post(url, json={"params": [{"key": "lr", "value": "0.5"}]})
    message = assert_error(second, 409, "CONFLICT")
    assert "0.125" in message and "0.5" in message


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": 12}, "name"),
        ({}, "name"),
        ({"name": "x", "tags": {"a": 1}}, "tags.a"),
        ({"name": "x", "tags": ["a"]}, "tags"),
        ([1, 2], "body"),
    ],
)
def test_wrong_types_and_missing_fields_are_400_naming_the_field(
    client: httpx.Client, body: object, field: str
) -> None:
    message = assert_error(client.post("/api/v1/experiments", json=body), 400, "INVALID_INPUT")
    assert field in message


@pytest.mark.parametrize(
    ("metric", "field"),
    [
        ({"key": "m", "value": "abc"}, "metrics[0].value"),
        ({"key": "m", "value": True}, "metrics[0].value"),
        ({"key": "m", "value": 1, "step": 1.5}, "metrics[0].step"),
        ({"key": "m", "value": 1, "step": "3"}, "metrics[0].step"),
        ({"key": "m", "value": 10**400}, "metrics[0].value"),
        ({"value": 1}, "metrics[0].key"),
    ],
)
def test_bad_metric_is_400_naming_the_field(
    client: httpx.Client, metric: dict[str, object], field: str
) -> None:
    run = create_run(client)
    response = client.post(f"/api/v1/runs/{run['id']}/log-batch", json={"metrics": [metric]})
    assert field in assert_error(response, 400, "INVALID_INPUT")


def test_malformed_json_is_400(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/experiments",
        content=b'{"name": ',
        headers={"Content-Type": "application/json"},
    )
    assert "malformed JSON" in assert_error(response, 400, "INVALID_INPUT")


def test_body_that_is_not_json_is_400(client: httpx.Client) -> None:
    response = client.post("/api/v1/experiments", content=b"name=x")
    assert_error(response, 400, "INVALID_INPUT")


def test_invalid_query_parameter_is_400(client: httpx.Client) -> None:
    response = client.get("/api/v1/experiments", params={"view": "sideways"})
    assert "view" in assert_error(response, 400, "INVALID_INPUT")
    response = client.get("/api/v1/experiments", params={"max_results": "many"})
    assert "max_results" in assert_error(response, 400, "INVALID_INPUT")


def test_content_checks_of_the_store_are_400(client: httpx.Client) -> None:
    run = create_run(client)
    response = client.post(
        f"/api/v1/runs/{run['id']}/log-batch",
        json={"params": [{"key": "bad key!", "value": "1"}]},
    )
    assert "bad key!" in assert_error(response, 400, "INVALID_INPUT")


def test_bad_filter_is_400_with_its_position(client: httpx.Client) -> None:
    experiment = create_experiment(client)
    response = client.post(
        "/api/v1/runs/search",
        json={"experiment_ids": [experiment["id"]], "filter": "metrics.acc >> 0.5"},
    )
    assert_error(response, 400, "INVALID_FILTER")
    position = response.json()["error"]["position"]
    assert isinstance(position, int) and 11 <= position <= 13


def test_bad_artifact_path_is_400(client: httpx.Client) -> None:
    run = create_run(client)
    for path in ("../etc/passwd", "/abs", "a/%2e%2e/b"):
        response = client.get(f"/api/v1/runs/{run['id']}/artifacts/file", params={"path": path})
        assert_error(response, 400, "INVALID_INPUT")


def test_oversized_json_body_is_413(client: httpx.Client) -> None:
    body = b'{"name": "' + b"x" * (17 * 1024 * 1024) + b'"}'
    response = client.post(
        "/api/v1/experiments", content=body, headers={"Content-Type": "application/json"}
    )
    assert "16 MiB" in assert_error(response, 413, "PAYLOAD_TOO_LARGE")


def test_oversized_chunked_body_is_413(client: httpx.Client) -> None:
    def chunks() -> object:
        for _ in range(20):
            yield b"x" * (1024 * 1024)

    response = client.post(
        "/api/v1/experiments",
        content=chunks(),  # type: ignore[arg-type]
        headers={"Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


# Each error class a client can meet over HTTP, with a request that produces it.
def _requests_by_error(client: httpx.Client) -> dict[type[ShipyardError], httpx.Response]:
    run = create_run(client)
    experiment = create_experiment(client)
    batch = f"/api/v1/runs/{run['id']}/log-batch"
    client.post(batch, json={"params": [{"key": "p", "value": "1"}]})
    return {
        errors.InvalidInputError: client.post(batch, json={"metrics": [{"key": "", "value": 1}]}),
        errors.FilterSyntaxError: client.post("/api/v1/runs/search", json={"filter": "(("}),
        errors.NotFoundError: client.get("/api/v1/runs/0123"),
        errors.ConflictError: client.post(batch, json={"params": [{"key": "p", "value": "2"}]}),
        errors.AlreadyExistsError: client.post(
            "/api/v1/experiments", json={"name": experiment["name"]}
        ),
        errors.PayloadTooLargeError: client.post(
            "/api/v1/experiments",
            content=b"[" + b"1," * (9 * 1024 * 1024) + b"1]",
            headers={"Content-Type": "application/json"},
        ),
    }


def test_each_error_class_round_trips_over_http(client: httpx.Client) -> None:
    for cls, response in _requests_by_error(client).items():
        assert_error(response, cls.http_status, cls.code)
        rebuilt = error_from_payload(response.json(), response.status_code)
        assert type(rebuilt) is cls, (cls, response.text)
