"""``POST /api/v1/blobs/fetch``: many small blobs in one answer, each verified both ends."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest

from shipyard.data.checkout import materialize
from shipyard.data.manifest import Manifest, ManifestEntry
from shipyard.errors import (
    DataCorruptionError,
    InvalidInputError,
    NotFoundError,
    ServiceUnavailableError,
    ShipyardError,
)
from shipyard.server.routes import blob_fetch
from shipyard.server.routes.blobs import BATCH_MAX_BLOB_BYTES, router
from shipyard.store.hashing import hash_bytes
from shipyard.store.packs import PackedSource
from shipyard.store.rest.blobs import RestBlobStore
from shipyard.store.rest.fetch_frames import parse_frames
from tests.support.blob_server import FAST_RETRY, Server, serve_blobs
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


def test_a_digest_asked_for_again_counts_again_toward_the_limit(server: Server) -> None:
    digest, _ = server.local.put(io.BytesIO(os.urandom(15 * 1024 * 1024)))
    url = f"{server.url}/api/v1/blobs/fetch"
    assert httpx.post(url, json={"digests": [digest] * 4}).status_code == 200
    response = httpx.post(url, json={"digests": [digest] * 5})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def _frame(header: dict[str, object], data: bytes = b"") -> bytes:
    return json.dumps(header).encode() + b"\n" + data


@pytest.mark.parametrize(
    "body",
    [
        _frame({"digest": hash_bytes(b"abc"), "size": -1000}),
        _frame({"digest": hash_bytes(b"abc")}, b"abc"),
        _frame({"digest": hash_bytes(b"abc"), "size": "3"}, b"abc"),
        _frame({"digest": hash_bytes(b"abc"), "size": 4}, b"abc"),
        _frame({"digest": ["not", "a", "digest"], "size": 3}, b"abc"),
        _frame({"digest": ABSENT, "size": 3}, b"abc"),
        b"not json\n",
        b'{"digest": "' + hash_bytes(b"abc").encode() + b'", "size": 3',
        _frame([1, 2, 3]),  # type: ignore[arg-type]
    ],
    ids=[
        "negative",
        "no-size",
        "text-size",
        "past-end",
        "list",
        "unasked",
        "json",
        "no-end",
        "array",
    ],
)
def test_a_broken_answer_is_one_clear_error(body: bytes) -> None:
    with pytest.raises(ServiceUnavailableError, match="blob batch is broken"):
        parse_frames(body, {hash_bytes(b"abc"): 3})


def test_bytes_that_do_not_match_are_refused_by_the_client() -> None:
    digest = hash_bytes(b"abc")
    found = parse_frames(_frame({"digest": digest, "size": 3}, b"abd"), {digest: 3})
    assert isinstance(found[digest], DataCorruptionError)
    other = hash_bytes(b"abcd")  # right bytes, not the size the manifest says
    found = parse_frames(_frame({"digest": other, "size": 4}, b"abcd"), {other: 3})
    assert isinstance(found[other], DataCorruptionError)


def test_a_server_that_stays_down_fails_each_file_not_the_process(
    server: Server, tmp_path: Path
) -> None:
    files = {f"f{i}.bin": os.urandom(40) for i in range(5)}
    for data in files.values():
        server.local.put(io.BytesIO(data))
    server.faults.unavailable = 1000
    with pytest.raises(ServiceUnavailableError, match="5 of 5 file"):
        materialize(server.client(), _manifest(files), tmp_path / "out", quiet=True)
    assert not any((tmp_path / "out").iterdir())


class _SwappingClient(RestBlobStore):
    """Replaces a checkout folder with a link to elsewhere while its files are fetched."""

    folder: Path
    elsewhere: Path

    def fetch_many(
        self, wanted: Sequence[tuple[str, int]]
    ) -> dict[str, bytes | ShipyardError] | None:
        self.folder.rename(self.folder.with_name("moved"))
        self.folder.symlink_to(self.elsewhere, target_is_directory=True)
        return super().fetch_many(wanted)


def test_a_folder_swapped_for_a_link_during_a_fetch_is_not_written_through(
    server: Server, tmp_path: Path
) -> None:
    files = {"sub/a.bin": b"alpha", "sub/b.bin": b"beta"}
    for data in files.values():
        server.local.put(io.BytesIO(data))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    client = _SwappingClient(server.url, retry=FAST_RETRY)
    client.folder, client.elsewhere = tmp_path / "out" / "sub", elsewhere
    (tmp_path / "out" / "sub").mkdir(parents=True)
    with pytest.raises(InvalidInputError, match="replaced by a link"):
        materialize(client, _manifest(files), tmp_path / "out", quiet=True)
    assert list(elsewhere.iterdir()) == []
