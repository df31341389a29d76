"""``POST /api/v1/blobs/fetch``: many small blobs in one answer, each verified both ends."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shipyard.data.checkout import materialize
from shipyard.data.manifest import Manifest, ManifestEntry
from shipyard.errors import DataCorruptionError, NotFoundError
from shipyard.server.routes import blob_fetch
from shipyard.server.routes.blobs import BATCH_MAX_BLOB_BYTES, router
from shipyard.store.hashing import hash_bytes
from shipyard.store.packs import PackedSource
from tests.support.blob_server import Server, serve_blobs
from tests.support.blobs import corrupt_blob

ABSENT = "0" * 64


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with serve_blobs(tmp_path / "server-blobs", [router, blob_fetch.router]) as running:
        yield running


@pytest.fixture
def old_server(tmp_path: Path) -> Iterator[Server]:
    """A server without the fetch route."""
    with serve_blobs(tmp_path / "old-server-blobs", [router]) as running:
        yield running


def _frames(body: bytes) -> list[tuple[dict[str, object], bytes]]:
    frames, at = [], 0
    while at < len(body):
        end = body.index(b"\n", at)
        header = json.loads(body[at:end])
        size = int(header.get("size", 0))
        frames.append((header, body[end + 1 : end + 1 + size]))
        at = end + 1 + size
    return frames


def test_fetch_answers_every_digest_in_order(server: Server) -> None:
    data = [os.urandom(10 + i) for i in range(5)]
    digests = [server.local.put(io.BytesIO(d))[0] for d in data]
    asked = [digests[3], ABSENT, digests[0], digests[3]]
    response = httpx.post(f"{server.url}/api/v1/blobs/fetch", json={"digests": asked})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-shipyard-blob-batch"
    frames = _frames(response.content)
    assert [h["digest"] for h, _ in frames] == asked
    assert frames[0][1] == data[3] and frames[2][1] == data[0] and frames[3][1] == data[3]
    assert frames[1][0]["error"] == {"code": "NOT_FOUND", "message": f"blob {ABSENT} not found"}


def test_fetch_refuses_what_is_too_large_or_malformed(server: Server) -> None:
    big = os.urandom(BATCH_MAX_BLOB_BYTES + 1)
    digest, _ = server.local.put(io.BytesIO(big))
    url = f"{server.url}/api/v1/blobs/fetch"
    response = httpx.post(url, json={"digests": [digest]})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    for body in ({"digests": ["../../etc/passwd"]}, {"digests": "x"}, {}):
        bad = httpx.post(url, json=body)
        assert bad.status_code in (400, 422), body
        assert "error" in bad.json()


def test_client_fetches_packed_and_loose_blobs_and_names_the_bad_ones(
    server: Server, tmp_path: Path
) -> None:
    data = [f"small blob {i}".encode() * (i + 1) for i in range(100)]
    folder = tmp_path / "src"
    folder.mkdir()
    sources = []
    for index, content in enumerate(data):
        path = folder / f"{index}.bin"
        path.write_bytes(content)
        sources.append(PackedSource(hash_bytes(content), str(path), len(content)))
    server.local.pack(sources)
    loose, _ = server.local.put(io.BytesIO(b"a loose one"))
    corrupt_blob(server.root, sources[7].digest)
    wanted = [(s.digest, s.size) for s in sources] + [(loose, 11), (ABSENT, 5)]
    fetched = server.client().fetch_many(wanted)
    assert fetched is not None
    assert fetched[loose] == b"a loose one"
    assert all(
        fetched[s.digest] == d for s, d in zip(sources, data, strict=True) if s != sources[7]
    )
    assert isinstance(fetched[sources[7].digest], DataCorruptionError)
    assert isinstance(fetched[ABSENT], NotFoundError)
    fetches = [r for r in server.faults.requests if r[1] == "/api/v1/blobs/fetch"]
    assert len(fetches) == 1


def _manifest(blobs: dict[str, bytes]) -> Manifest:
    return Manifest(
        [ManifestEntry(rel, len(data), hash_bytes(data), False) for rel, data in blobs.items()]
    )


def test_a_checkout_from_a_server_asks_for_small_files_in_batches(
    server: Server, tmp_path: Path
) -> None:
    files = {f"d{i % 3}/f{i:04d}.bin": os.urandom(20 + i % 50) for i in range(1500)}
    files["big.bin"] = os.urandom(2 * 1024 * 1024)
    for data in files.values():
        server.local.put(io.BytesIO(data))
    result = materialize(server.client(), _manifest(files), tmp_path / "out", quiet=True)
    assert result.written == len(files)
    for rel, data in files.items():
        assert (tmp_path / "out" / rel).read_bytes() == data
    paths = [path for method, path, _ in server.faults.requests if method in ("GET", "POST")]
    assert paths.count("/api/v1/blobs/fetch") == 2  # 1,000 files per task
    assert [p for p in paths if p.startswith("/api/v1/blobs/") and p != "/api/v1/blobs/fetch"] == [
        f"/api/v1/blobs/{hash_bytes(files['big.bin'])}"
    ]


def test_a_corrupt_blob_fetched_in_a_batch_is_never_written(server: Server, tmp_path: Path) -> None:
    files = {f"f{i:03d}.bin": os.urandom(64) for i in range(10)}
    for data in files.values():
        server.local.put(io.BytesIO(data))
    corrupt_blob(server.root, hash_bytes(files["f004.bin"]))
    out = tmp_path / "out"
    with pytest.raises(DataCorruptionError, match=r"f004\.bin"):
        materialize(server.client(), _manifest(files), out, quiet=True)
    assert not (out / "f004.bin").exists()
    assert (out / "f005.bin").read_bytes() == files["f005.bin"]
    assert not any(p.name.endswith(".part") for p in out.iterdir())


def test_a_server_without_batch_downloads_is_asked_file_by_file(
    old_server: Server, tmp_path: Path
) -> None:
    files = {f"f{i:03d}.bin": os.urandom(32) for i in range(20)}
    for data in files.values():
        old_server.local.put(io.BytesIO(data))
    result = materialize(old_server.client(), _manifest(files), tmp_path / "out", quiet=True)
    assert result.written == 20
    for rel, data in files.items():
        assert (tmp_path / "out" / rel).read_bytes() == data
    gets = [p for m, p, _ in old_server.faults.requests if m == "GET"]
    assert len(gets) == 20
