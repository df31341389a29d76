"""``shipyard server``: refuses a remote store, and serves with several workers."""

from __future__ import annotations

from pathlib import Path

import httpx
from click.testing import CliRunner

from shipyard.cli.main import cli
from shipyard.store.hashing import hash_bytes
from tests.server.conftest import assert_error, unique
from tests.support.live_server import live_server


def test_a_server_url_as_store_is_refused() -> None:
    result = CliRunner().invoke(cli, ["server", "--store", "http://127.0.0.1:5000"])
    assert result.exit_code == 1
    assert "Error: --store is a server URL" in result.output
    assert "Traceback" not in result.output


def test_server_url_from_the_environment_is_refused() -> None:
    result = CliRunner().invoke(cli, ["server"], env={"SHIPYARD_URI": "https://example.org"})
    assert result.exit_code == 1
    assert "SHIPYARD_URI" in result.output


def test_several_workers_serve_one_store_with_configured_limits(tmp_path: Path) -> None:
    """Workers build the app from environment variables, limits included."""
    limits = {
        "SHIPYARD_SERVER_MAX_JSON_BYTES": "4096",
        "SHIPYARD_SERVER_MAX_UPLOAD_BYTES": "65536",
    }
    with (
        live_server(
            f"sqlite:///{tmp_path / 'shipyard.db'}",
            str(tmp_path / "blobs"),
            extra_args=("--workers", "2"),
            env=limits,
        ) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        names = [unique() for _ in range(6)]
        for name in names:
            assert client.post("/api/v1/experiments", json={"name": name}).status_code == 201
        listed = client.get("/api/v1/experiments", params={"max_results": 1000}).json()
        assert set(names) <= {e["name"] for e in listed["experiments"]}

        too_big_json = client.post("/api/v1/experiments", json={"name": "x" * 5000})
        assert "4 KiB" in assert_error(too_big_json, 413, "PAYLOAD_TOO_LARGE")

        blob = b"b" * 20_000  # over the JSON limit, under the upload limit
        assert client.put(f"/api/v1/blobs/{hash_bytes(blob)}", content=blob).status_code == 200
        huge = b"h" * 70_000
        response = client.put(f"/api/v1/blobs/{hash_bytes(huge)}", content=huge)
        assert "64 KiB" in assert_error(response, 413, "PAYLOAD_TOO_LARGE")
