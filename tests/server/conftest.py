"""One live ``shipyard server`` on a temporary SQLite store for the HTTP tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.live_server import live_server


@pytest.fixture(scope="session")
def server_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server")


@pytest.fixture(scope="session")
def server_url(server_home: Path) -> Iterator[str]:
    with live_server(f"sqlite:///{server_home / 'shipyard.db'}", str(server_home / "blobs")) as url:
        yield url


@pytest.fixture
def client(server_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server_url, timeout=30) as http:
        yield http


def unique(prefix: str = "exp") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def create_experiment(client: httpx.Client) -> dict[str, Any]:
    response = client.post("/api/v1/experiments", json={"name": unique()})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def create_run(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    experiment = create_experiment(client)
    response = client.post("/api/v1/runs", json={"experiment_id": experiment["id"], **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_error(response: httpx.Response, status: int, code: str) -> str:
    """The response is exactly the one error shape; returns its message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"].strip()
    assert "\n" not in error["message"]
    assert set(error) <= {"code", "message", "position"}
    return str(error["message"])
