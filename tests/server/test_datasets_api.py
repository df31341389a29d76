"""The dataset endpoints over HTTP: the manifest-blob check, 201 versus 200 (unchanged),
Idempotency-Key, path validation and the OpenAPI description."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from shipyard.store.hashing import hash_bytes
from tests.server.conftest import assert_error, create_run, unique


def upload(client: httpx.Client, data: bytes) -> str:
    digest = hash_bytes(data)
    response = client.put(f"/api/v1/blobs/{digest}", content=data)
    assert response.is_success, response.text
    return digest


def version_body(digest: str, **fields: Any) -> dict[str, Any]:
    return {"manifest_digest": digest, "file_count": 1, "total_size": 5, **fields}


def test_a_version_needs_its_manifest_blob_first(client: httpx.Client) -> None:
    name = unique("ds")
    absent = hash_bytes(uuid.uuid4().bytes)
    response = client.post(f"/api/v1/datasets/{name}/versions", json=version_body(absent))
    message = assert_error(response, 400, "INVALID_INPUT")
    assert absent in message and "upload it first" in message
    assert_error(client.get(f"/api/v1/datasets/{name}"), 404, "NOT_FOUND")


def test_created_answers_201_and_unchanged_200(client: httpx.Client) -> None:
    name = unique("ds")
    digest = upload(client, unique("manifest").encode())
    path = f"/api/v1/datasets/{name}/versions"

    created = client.post(path, json=version_body(digest, message="first", tags=["v1"]))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["created"] is True
    version = body["dataset_version"]
    assert (version["version"], version["uri"], version["tags"]) == (
        1,
        f"datasets:/{name}/1",
        ["v1"],
    )

    unchanged = client.post(path, json=version_body(digest))
    assert unchanged.status_code == 200
    assert unchanged.json() == {"dataset_version": version, "created": False}
    assert client.get(f"{path}/v1").json() == version
    assert client.get(f"{path}/latest").json() == version


def test_idempotency_key_applies_a_create_once(client: httpx.Client) -> None:
    name = unique("ds")
    first = upload(client, unique("m").encode())
    second = upload(client, unique("m").encode())
    path = f"/api/v1/datasets/{name}/versions"
    client.post(path, json=version_body(first))
    key = {"Idempotency-Key": unique("key")}

    answers = [client.post(path, json=version_body(second), headers=key) for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()
    listed = client.get(path).json()["versions"]
    assert [v["version"] for v in listed] == [1, 2]


def test_bad_paths_and_bodies_answer_400(client: httpx.Client) -> None:
    name = unique("ds")
    digest = upload(client, unique("m").encode())
    client.post(f"/api/v1/datasets/{name}/versions", json=version_body(digest))
    assert_error(client.delete(f"/api/v1/datasets/{name}/versions/abc"), 400, "INVALID_INPUT")
    assert_error(client.get(f"/api/v1/datasets/{name}/versions/0"), 400, "INVALID_INPUT")
    assert_error(client.get("/api/v1/datasets/bad%20name"), 400, "INVALID_INPUT")
    assert_error(
        client.post(
            f"/api/v1/datasets/{name}/versions", json=version_body(digest, file_count="many")
        ),
        400,
        "INVALID_INPUT",
    )
    assert_error(
        client.put(f"/api/v1/datasets/{name}/version-tags/latest", json={"version": 1}),
        400,
        "INVALID_INPUT",
    )
    assert_error(client.get(f"/api/v1/datasets/{name}/versions/9"), 404, "NOT_FOUND")


def test_a_version_whose_manifest_was_collected_cannot_be_restored(
    client: httpx.Client, server_home: Path
) -> None:
    name = unique("ds")
    digest = upload(client, unique("m").encode())
    client.post(f"/api/v1/datasets/{name}/versions", json=version_body(digest))
    assert client.delete(f"/api/v1/datasets/{name}/versions/1").status_code == 204
    [blob] = [p for p in server_home.rglob(digest) if p.is_file()]
    blob.unlink()  # what `shipyard gc` does to the blobs of deleted versions

    message = assert_error(
        client.post(f"/api/v1/datasets/{name}/versions/1/restore"), 409, "CONFLICT"
    )
    assert "garbage-collected" in message
    version = client.get(f"/api/v1/datasets/{name}/versions/1").json()
    assert version["lifecycle_stage"] == "deleted"


def test_run_inputs_and_references(client: httpx.Client) -> None:
    name = unique("ds")
    digest = upload(client, unique("m").encode())
    client.post(f"/api/v1/datasets/{name}/versions", json=version_body(digest))
    run = create_run(client)
    inputs = {"inputs": [{"dataset": name, "version": 1}]}
    assert client.post(f"/api/v1/runs/{run['id']}/inputs", json=inputs).status_code == 204
    listed = client.get(f"/api/v1/runs/{run['id']}/inputs").json()["inputs"]
    assert [(i["dataset"], i["version"]) for i in listed] == [(name, 1)]
    assert client.get(f"/api/v1/datasets/{name}/versions/1/runs").json() == {"run_ids": [run["id"]]}
    assert digest in client.get("/api/v1/references/digests").json()["digests"]
    assert digest in client.get("/api/v1/references/manifests").json()["digests"]


def test_openapi_documents_the_dataset_endpoints(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/v1/datasets",
        "/api/v1/datasets/{name}",
        "/api/v1/datasets/{name}/versions",
        "/api/v1/datasets/{name}/versions/{ref}",
        "/api/v1/datasets/{name}/version-tags/{tag}",
        "/api/v1/runs/{run_id}/inputs",
        "/api/v1/references/digests",
    } <= set(paths)
    assert "201" in paths["/api/v1/datasets/{name}/versions"]["post"]["responses"]
