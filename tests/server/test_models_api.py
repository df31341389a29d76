"""The model registry endpoints over HTTP: blob checks on packages and plots, the error
shapes (400 for bad JSON, fields and paths; 404; 409), Idempotency-Key and OpenAPI."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from shipyard.store.hashing import hash_bytes
from tests.server.conftest import assert_error, unique


def upload(client: httpx.Client, data: bytes) -> str:
    digest = hash_bytes(data)
    response = client.put(f"/api/v1/blobs/{digest}", content=data)
    assert response.is_success, response.text
    return digest


def version_body(digest: str, **fields: Any) -> dict[str, Any]:
    return {"source": "runs:/x/model", "package_digest": digest, **fields}


def register(client: httpx.Client, name: str) -> dict[str, Any]:
    digest = upload(client, unique("package").encode())
    response = client.post(f"/api/v1/models/{name}/versions", json=version_body(digest))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def evaluation_body(name: str, version: int, **fields: Any) -> dict[str, Any]:
    return {
        "model_uri": f"models:/{name}/{version}",
        "task": "classification",
        "target": "label",
        "metrics": {"accuracy": 0.9, "undefined": "NaN"},
        "details": {"confusion_matrix": [[1, 0], [0, 1]]},
        "row_count": 2,
        "model_name": name,
        "model_version": version,
        **fields,
    }


def test_a_version_needs_its_package_manifest_blob_first(client: httpx.Client) -> None:
    name = unique("model")
    absent = hash_bytes(uuid.uuid4().bytes)
    response = client.post(f"/api/v1/models/{name}/versions", json=version_body(absent))
    message = assert_error(response, 400, "INVALID_INPUT")
    assert absent in message and "upload it first" in message
    assert_error(client.get(f"/api/v1/models/{name}"), 404, "NOT_FOUND")
    bad = client.post(f"/api/v1/models/{name}/versions", json=version_body("not-a-digest"))
    assert "package manifest digest" in assert_error(bad, 400, "INVALID_INPUT")


def test_an_evaluation_needs_its_plot_blobs_first(client: httpx.Client) -> None:
    name = unique("model")
    register(client, name)
    absent = hash_bytes(uuid.uuid4().bytes)
    stored = upload(client, unique("png").encode())
    plots = {"roc.png": stored, "confusion_matrix.png": absent}
    response = client.post("/api/v1/evaluations", json=evaluation_body(name, 1, plots=plots))
    message = assert_error(response, 400, "INVALID_INPUT")
    assert absent in message and "confusion_matrix.png" in message
    assert client.get(f"/api/v1/models/{name}/evaluations").json() == {"evaluations": []}

    created = client.post(
        "/api/v1/evaluations", json=evaluation_body(name, 1, plots={"roc.png": stored})
    )
    assert created.status_code == 201, created.text
    evaluation = created.json()
    assert evaluation["metrics"] == {"accuracy": 0.9, "undefined": "NaN"}
    assert client.get(f"/api/v1/evaluations/{evaluation['id']}").json() == evaluation
    assert stored in client.get("/api/v1/references/model-digests").json()["digests"]
    assert stored in client.get("/api/v1/references/digests").json()["digests"]


def test_created_version_and_idempotency_key(client: httpx.Client) -> None:
    name = unique("model")
    digest = upload(client, unique("package").encode())
    path = f"/api/v1/models/{name}/versions"
    key = {"Idempotency-Key": unique("key")}

    answers = [
        client.post(path, json=version_body(digest, flavor="sklearn"), headers=key)
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()
    version = answers[0].json()
    assert (version["version"], version["uri"], version["status"]) == (
        1,
        f"models:/{name}/1",
        "READY",
    )
    assert [v["version"] for v in client.get(path).json()["versions"]] == [1]
    assert client.get(f"{path}/latest").json() == version
    assert client.get(f"{path}/1").json() == version
    other = upload(client, unique("package").encode())
    reused = client.post(path, json=version_body(other), headers=key)
    assert_error(reused, 409, "CONFLICT")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/models", {"name": 5}),
        ("POST", "/api/v1/models", {"name": "bad name"}),
        ("POST", "/api/v1/models", {"name": "x", "tags": ["not", "a", "map"]}),
        ("PATCH", "/api/v1/models/{name}", {}),
        ("PATCH", "/api/v1/models/{name}/versions/abc", {"description": "x"}),
        ("PATCH", "/api/v1/models/{name}/versions/1", {"status": "RETIRED"}),
        ("PUT", "/api/v1/models/{name}/aliases/latest", {"version": 1}),
        ("PUT", "/api/v1/models/{name}/aliases/12", {"version": 1}),
        ("PUT", "/api/v1/models/{name}/aliases/champion", {"version": "1"}),
        ("PUT", "/api/v1/models/{name}/aliases/champion", {"version": True}),
        ("GET", "/api/v1/models/bad%20name", None),
        ("GET", "/api/v1/models/{name}/versions/0", None),
        ("GET", "/api/v1/models/{name}/evaluations?version=abc", None),
        ("GET", "/api/v1/models/{name}/versions?status=GONE", None),
        ("GET", "/api/v1/models?max_results=0", None),
        ("POST", "/api/v1/evaluations", {"model_uri": "runs:/x/model"}),
        (
            "POST",
            "/api/v1/models/{name}/promotions",
            {"alias": "production", "candidate_version": "two"},
        ),
    ],
)
def test_bad_fields_and_paths_answer_400(
    client: httpx.Client, method: str, path: str, body: dict[str, Any] | None
) -> None:
    name = unique("model")
    register(client, name)
    response = client.request(method, path.format(name=name), json=body)
    assert_error(response, 400, "INVALID_INPUT")


@pytest.mark.parametrize(
    "path",
    ["/api/v1/models", "/api/v1/models/{name}/versions", "/api/v1/evaluations"],
)
def test_malformed_json_answers_400(client: httpx.Client, path: str) -> None:
    name = unique("model")
    response = client.post(
        path.format(name=name),
        content=b'{"name": "x",',
        headers={"Content-Type": "application/json"},
    )
    assert "malformed JSON" in assert_error(response, 400, "INVALID_INPUT")


def test_missing_things_answer_404(client: httpx.Client) -> None:
    name = unique("model")
    register(client, name)
    for path, named in [
        (f"/api/v1/models/{name}-absent", f"{name}-absent"),
        (f"/api/v1/models/{name}/versions/9", "version 9"),
        (f"/api/v1/models/{name}/versions/champion", "'champion'"),
        (f"/api/v1/evaluations/{'0' * 32}", "0" * 32),
        (f"/api/v1/models/{name}-absent/alias-events", f"{name}-absent"),
    ]:
        assert named in assert_error(client.get(path), 404, "NOT_FOUND")
    deleted = client.delete(f"/api/v1/models/{name}/aliases/champion")
    assert "'champion'" in assert_error(deleted, 404, "NOT_FOUND")
    moved = client.put(f"/api/v1/models/{name}/aliases/champion", json={"version": 4})
    assert "version 4" in assert_error(moved, 404, "NOT_FOUND")


def test_conflicts_answer_409(client: httpx.Client) -> None:
    name = unique("model")
    register(client, name)
    register(client, name)
    created = client.post("/api/v1/models", json={"name": name})
    assert name in assert_error(created, 409, "ALREADY_EXISTS")

    event = client.put(
        f"/api/v1/models/{name}/aliases/champion",
        json={"version": 1, "user": "ada", "reason": "first"},
    )
    assert event.status_code == 200, event.text
    assert {k: event.json()[k] for k in ("from_version", "to_version", "user", "reason")} == {
        "from_version": None,
        "to_version": 1,
        "user": "ada",
        "reason": "first",
    }
    archive = client.patch(f"/api/v1/models/{name}/versions/1", json={"status": "ARCHIVED"})
    assert "'champion'" in assert_error(archive, 409, "CONFLICT")
    assert client.patch(f"/api/v1/models/{name}/versions/2", json={"status": "ARCHIVED"}).json()[
        "status"
    ] == ("ARCHIVED")
    onto_archived = client.put(f"/api/v1/models/{name}/aliases/champion", json={"version": 2})
    assert "archived" in assert_error(onto_archived, 409, "CONFLICT")

    removed = client.delete(
        f"/api/v1/models/{name}/aliases/champion", params={"user": "bob", "reason": "retired"}
    )
    assert removed.status_code == 200, removed.text
    assert (removed.json()["from_version"], removed.json()["to_version"]) == (1, None)
    events = client.get(f"/api/v1/models/{name}/alias-events").json()["events"]
    assert [(e["from_version"], e["to_version"], e["user"]) for e in events] == [
        (None, 1, "ada"),
        (1, None, "bob"),
    ]


def test_promotion_decisions_over_http(client: httpx.Client) -> None:
    name = unique("model")
    register(client, name)
    evaluation = client.post("/api/v1/evaluations", json=evaluation_body(name, 1)).json()
    body = {
        "alias": "production",
        "candidate_version": 1,
        "metric": "accuracy",
        "greater_is_better": True,
        "candidate_score": 1,
        "promoted": True,
        "reason": "no incumbent",
        "candidate_evaluation_id": evaluation["id"],
    }
    key = {"Idempotency-Key": unique("key")}
    answers = [
        client.post(f"/api/v1/models/{name}/promotions", json=body, headers=key) for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()
    decision = answers[0].json()
    assert (decision["candidate_score"], decision["min_delta"], decision["thresholds"]) == (
        1.0,
        0.0,
        {},
    )
    listed = client.get(f"/api/v1/models/{name}/promotions").json()["decisions"]
    assert listed == [decision]
    missing = client.post(
        f"/api/v1/models/{name}/promotions",
        json={**body, "candidate_evaluation_id": "f" * 32},
    )
    assert "f" * 32 in assert_error(missing, 404, "NOT_FOUND")


def test_openapi_documents_the_model_endpoints(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/v1/models",
        "/api/v1/models/{name}",
        "/api/v1/models/{name}/tags",
        "/api/v1/models/{name}/versions",
        "/api/v1/models/{name}/versions/{ref}",
        "/api/v1/models/{name}/versions/{version}",
        "/api/v1/models/{name}/versions/{version}/tags",
        "/api/v1/models/{name}/aliases/{alias}",
        "/api/v1/models/{name}/alias-events",
        "/api/v1/models/{name}/evaluations",
        "/api/v1/models/{name}/promotions",
        "/api/v1/evaluations",
        "/api/v1/evaluations/{evaluation_id}",
        "/api/v1/references/model-digests",
    } <= set(paths)
    assert "201" in paths["/api/v1/models/{name}/versions"]["post"]["responses"]
