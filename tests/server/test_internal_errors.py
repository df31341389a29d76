"""A bug answers 500 INTERNAL in the one error shape, with the traceback in the log only."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from shipyard.entities import Run
from shipyard.server.app import create_app
from shipyard.store.artifacts import FsspecBlobStore
from shipyard.store.sql.store import SqlStore
from tests.support.live_server import free_port


class _StoreWithABug(SqlStore):
    """A real store whose get_run fails the way a programming error would."""

    def get_run(self, run_id: str) -> Run:
        raise RuntimeError(f"secret detail of {run_id}")


@contextlib.contextmanager
def _serve_in_thread(app: FastAPI) -> Iterator[str]:
    """The app on a loopback port, in this process (so that the test can hand it a store)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_unexpected_exception_is_500_internal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = _StoreWithABug(f"sqlite:///{tmp_path / 'shipyard.db'}")
    app = create_app(store, FsspecBlobStore(str(tmp_path / "blobs")), owns_stores=True)
    with (
        caplog.at_level(logging.ERROR, logger="shipyard.server"),
        _serve_in_thread(app) as url,
        httpx.Client(base_url=url) as client,
    ):
        response = client.get("/api/v1/runs/abc")
        assert response.status_code == 500
        assert response.json() == {"error": {"code": "INTERNAL", "message": "internal error"}}
        assert "secret detail" not in response.text
        metrics = client.get("/metrics").text
    assert "secret detail of abc" in caplog.text
    assert "Traceback" in caplog.text
    assert 'route="/api/v1/runs/{run_id}",status="500"' in metrics
