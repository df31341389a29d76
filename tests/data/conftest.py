"""Every data test runs against a local SQLite store and a live ``shipyard server``.

``backend`` yields a :class:`Backend`: a client, the environment that points the
CLI and ``sy.data`` at the same store, and the blob folder on disk (the
server's, for REST) so that tests can corrupt a stored blob for real.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import shipyard as sy
from shipyard.store.rest.blobs import RestBlobStore
from shipyard.store.rest.http import RetryPolicy
from tests.support.blobs import corrupt_blob
from tests.support.live_server import live_server
from tests.tracking.conftest import _no_leftover_runs

__all__ = ["Backend", "_no_leftover_runs", "age", "make_tree"]


QUICK = RetryPolicy(attempts=2, base_delay=0.05, max_delay=0.1, deadline=0.5)


@dataclass
class Backend:
    kind: str
    uri: str
    blob_root: Path
    client: sy.Client

    def corrupt(self, digest: str) -> None:
        """Flip one byte of a stored blob (loose or packed), in place, as a failing disk would."""
        corrupt_blob(self.blob_root, digest)


@pytest.fixture(scope="session")
def _server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("data-server")
    with live_server(str(folder / "store"), str(folder / "artifacts")) as url:
        yield url, folder / "artifacts"


@pytest.fixture(params=["sqlite", "rest"])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Backend]:
    if request.param == "sqlite":
        uri = str(tmp_path / "store")
        blob_root = tmp_path / "store" / "artifacts"
    else:
        uri, blob_root = request.getfixturevalue("_server")
    monkeypatch.setenv("SHIPYARD_URI", uri)
    # Quick retries: a test that breaks a download should not wait out real backoff.
    blobs = RestBlobStore(uri, retry=QUICK) if request.param == "rest" else None
    with sy.Client(uri, blob_store=blobs) as client:
        yield Backend(request.param, uri, blob_root, client)


@pytest.fixture
def name() -> str:
    """A dataset name no other test uses (the REST store is shared by the session)."""
    return f"ds-{uuid.uuid4().hex[:10]}"


def make_tree(root: Path, files: dict[str, bytes | str]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content)
        else:
            path.write_bytes(content)
    age(root)
    return root


def age(root: Path, seconds: float = 60.0) -> None:
    """Date every file back so the stat cache may keep it (fresh files are racy)."""
    paths = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
    for path in paths:
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - int(seconds * 1e9)))
