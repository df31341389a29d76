"""The blob endpoints on a real uvicorn server, spoken to by RestBlobStore and raw httpx."""

from __future__ import annotations

import io
import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import s3fs

from shipyard.errors import (
    DataCorruptionError,
    InvalidInputError,
    NotFoundError,
    ServiceUnavailableError,
)
from shipyard.server.ranges import ByteRange, RangeNotSatisfiable, parse_range
from shipyard.server.routes import blob_fetch
from shipyard.server.routes.blobs import BATCH_MAX_BLOB_BYTES, BATCH_MAX_BLOBS, router
from shipyard.store.hashing import CHUNK_SIZE, hash_bytes
from shipyard.store.rest.blobs import RestBlobStore
from tests.support.blob_server import FAST_RETRY, Server, serve_blobs
from tests.support.live_server import live_server
from tests.support.s3 import moto_s3


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with serve_blobs(tmp_path / "server-blobs", [router, blob_fetch.router]) as running:
        yield running


@pytest.fixture
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url) as client:
        yield client


def _error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_put_download_and_dedup(server: Server, tmp_path: Path) -> None:
    data = os.urandom(3 * CHUNK_SIZE + 17)
    path = tmp_path / "model.bin"
    path.write_bytes(data)
    blobs = server.client()
    digest, size = blobs.put_file(str(path))
    assert (digest, size) == (hash_bytes(data), len(data))
    assert server.local.exists(digest)
    assert b"".join(blobs.open(digest)) == data
    uploads = [r for r in server.faults.requests if r[0] == "PUT"]
    assert uploads == [("PUT", f"/api/v1/blobs/{digest}", None)]
    # Stored already: asked about, not sent again.
    assert blobs.put(io.BytesIO(data)) == (digest, size)
    assert [r for r in server.faults.requests if r[0] == "PUT"] == uploads
    assert blobs.exists(digest) and blobs.size(digest) == len(data)
    blobs.close()


def test_non_seekable_source_is_spooled(server: Server) -> None:
    read_end, write_end = os.pipe()
    data = os.urandom(CHUNK_SIZE + 3)
    writer = threading.Thread(target=lambda: (os.write(write_end, data), os.close(write_end)))
    writer.start()
    with os.fdopen(read_end, "rb") as pipe:
        digest, size = server.client().put(pipe)
    writer.join()
    assert (digest, size) == (hash_bytes(data), len(data))
    assert b"".join(server.local.open(digest)) == data


def test_missing_through_the_client_and_raw(server: Server) -> None:
    blobs = server.client()
    present, _ = blobs.put(io.BytesIO(b"present"))
    absent = hash_bytes(b"absent")
    assert blobs.missing([present, absent, absent]) == {absent}
    assert not blobs.exists(absent)
    with pytest.raises(NotFoundError):
        blobs.size(absent)
    with pytest.raises(NotFoundError):
        blobs.open(absent)
    response = httpx.post(
        f"{server.url}/api/v1/blobs/missing", json={"digests": [absent, present, absent]}
    )
    assert response.status_code == 200
    assert response.json() == {"missing": [absent]}


def test_missing_validates_its_input(server: Server) -> None:
    url = f"{server.url}/api/v1/blobs/missing"
    assert _error(httpx.post(url, json={"digests": ["nope"]})) == (400, "INVALID_INPUT")
    assert _error(httpx.post(url, json={"digests": "x"})) == (400, "INVALID_INPUT")
    too_many = [hash_bytes(str(i).encode()) for i in range(10_001)]
    assert _error(httpx.post(url, json={"digests": too_many})) == (400, "INVALID_INPUT")
    with pytest.raises(InvalidInputError):
        server.client().missing(["NOPE"])


def test_client_batches_large_missing_queries(server: Server) -> None:
    digests = [hash_bytes(str(i).encode()) for i in range(10_050)]
    assert server.client().missing(digests) == set(digests)
    posts = [r for r in server.faults.requests if r[0] == "POST"]
    assert len(posts) == 2


def test_upload_that_does_not_match_its_digest(server: Server) -> None:
    claimed = hash_bytes(b"what the client claims")
    response = httpx.put(f"{server.url}/api/v1/blobs/{claimed}", content=b"something else")
    assert _error(response) == (400, "INVALID_INPUT")
    assert "does not match digest" in response.json()["error"]["message"]
    assert not server.local.exists(claimed)
    assert not (server.root / "blobs").exists()
    assert list((server.root / "tmp").iterdir()) == []
    bad = httpx.put(f"{server.url}/api/v1/blobs/NOT-A-DIGEST", content=b"x")
    assert _error(bad) == (400, "INVALID_INPUT")


def test_raw_upload_streams_a_chunked_body(server: Server) -> None:
    data = os.urandom(2 * CHUNK_SIZE + 1)

    def body() -> Iterator[bytes]:
        for at in range(0, len(data), 100_000):
            yield data[at : at + 100_000]

    digest = hash_bytes(data)
    response = httpx.put(f"{server.url}/api/v1/blobs/{digest}", content=body())
    assert response.status_code == 200
    assert response.json() == {"digest": digest, "size": len(data)}
    assert b"".join(server.local.open(digest)) == data


def test_range_requests(server: Server, http: httpx.Client) -> None:
    data = bytes(range(256)) * 40
    digest, size = server.local.put(io.BytesIO(data))
    url = f"/api/v1/blobs/{digest}"

    whole = http.get(url)
    assert whole.status_code == 200
    assert whole.content == data
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["etag"] == f'"{digest}"'

    cases = {
        "bytes=10-19": (10, 19),
        "bytes=10000-": (10000, size - 1),
        "bytes=-5": (size - 5, size - 1),
        "bytes=100-999999": (100, size - 1),
        "bytes=0-0": (0, 0),
    }
    for header, (start, end) in cases.items():
        part = http.get(url, headers={"Range": header})
        assert part.status_code == 206, header
        assert part.headers["content-range"] == f"bytes {start}-{end}/{size}"
        assert part.content == data[start : end + 1]
        assert int(part.headers["content-length"]) == end - start + 1

    for header in (f"bytes={size}-", f"bytes={size + 5}-{size + 9}", "bytes=-0"):
        refused = http.get(url, headers={"Range": header})
        assert _error(refused) == (416, "RANGE_NOT_SATISFIABLE"), header
        assert refused.headers["content-range"] == f"bytes */{size}"

    # Served whole, as RFC 9110 allows: several ranges, other units, nonsense, a stale If-Range.
    for headers in (
        {"Range": "bytes=0-1,5-6"},
        {"Range": "items=0-1"},
        {"Range": "bytes=9-3"},
        {"Range": "bytes=abc"},
        {"Range": "bytes=0-1", "If-Range": '"another-version"'},
    ):
        full = http.get(url, headers=headers)
        assert full.status_code == 200, headers
        assert full.content == data
    matching = http.get(url, headers={"Range": "bytes=0-1", "If-Range": f'"{digest}"'})
    assert (matching.status_code, matching.content) == (206, data[:2])


def test_head(server: Server) -> None:
    digest, size = server.local.put(io.BytesIO(b"x" * 1234))
    head = httpx.head(f"{server.url}/api/v1/blobs/{digest}")
    assert head.status_code == 200
    assert head.headers["content-length"] == "1234"
    assert head.headers["accept-ranges"] == "bytes"
    assert head.content == b""
    ranged = httpx.head(f"{server.url}/api/v1/blobs/{digest}", headers={"Range": "bytes=-4"})
    assert ranged.status_code == 206
    assert ranged.headers["content-range"] == f"bytes 1230-1233/{size}"
    assert httpx.head(f"{server.url}/api/v1/blobs/{hash_bytes(b'no')}").status_code == 404


def test_errors_have_the_shipyard_shape(server: Server) -> None:
    absent = httpx.get(f"{server.url}/api/v1/blobs/{hash_bytes(b'absent')}")
    assert _error(absent) == (404, "NOT_FOUND")
    malformed = httpx.get(f"{server.url}/api/v1/blobs/ABC")
    assert _error(malformed) == (400, "INVALID_INPUT")


def test_download_resumes_after_a_dropped_connection(server: Server) -> None:
    data = os.urandom(3 * CHUNK_SIZE)
    digest, _ = server.local.put(io.BytesIO(data))
    server.faults.cut_downloads_after = CHUNK_SIZE + 100
    received = b"".join(server.client().open(digest))
    assert received == data
    gets = [r for r in server.faults.requests if r[0] == "GET"]
    assert len(gets) == 2
    assert gets[0][2] is None
    resumed_from = int(gets[1][2].removeprefix("bytes=").removesuffix("-"))  # type: ignore[union-attr]
    assert 0 < resumed_from <= CHUNK_SIZE + 100


def test_download_from_an_offset(server: Server) -> None:
    data = os.urandom(CHUNK_SIZE + 50)
    digest, size = server.local.put(io.BytesIO(data))
    blobs = server.client()
    assert b"".join(blobs.open(digest, offset=CHUNK_SIZE)) == data[CHUNK_SIZE:]
    assert list(blobs.open(digest, offset=size)) == []
    with pytest.raises(InvalidInputError):
        blobs.open(digest, offset=size + 1)


def test_corrupt_blob_on_the_server_is_detected(server: Server) -> None:
    data = os.urandom(2 * CHUNK_SIZE + 7)
    digest, _ = server.local.put(io.BytesIO(data))
    path = server.root / "blobs" / digest[:2] / digest
    os.chmod(path, 0o644)
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    # The server withholds the last chunk and drops the connection; the client
    # fetches the rest with a range request and finds the hash wrong itself.
    with pytest.raises(DataCorruptionError, match=digest):
        b"".join(server.client().open(digest))
    raw = httpx.get(f"{server.url}/api/v1/blobs/{digest}", headers={"Range": "bytes=0-9"})
    assert raw.content == data[:10]


def test_a_small_corrupt_blob_is_answered_with_an_error_not_bytes(server: Server) -> None:
    data = b"a small blob, checked whole before it is sent"
    digest, _ = server.local.put(io.BytesIO(data))
    path = server.root / "blobs" / digest[:2] / digest
    os.chmod(path, 0o644)
    path.write_bytes(b"A" + data[1:])
    raw = httpx.get(f"{server.url}/api/v1/blobs/{digest}")
    assert raw.status_code == 500
    assert raw.json()["error"]["code"] == "DATA_CORRUPTION"
    with pytest.raises(DataCorruptionError, match=digest):
        b"".join(server.client().open(digest))


def test_a_put_with_a_known_digest_is_one_request_verified_by_the_server(
    server: Server,
) -> None:
    blobs = server.client()
    data = b"known digest"
    before = len(server.faults.requests)
    assert blobs.put(io.BytesIO(data), expected_digest=hash_bytes(data)) == (
        hash_bytes(data),
        len(data),
    )
    assert len(server.faults.requests) == before + 1
    assert server.local.exists(hash_bytes(data))
    wrong = hash_bytes(b"something else")
    with pytest.raises(DataCorruptionError):
        blobs.put(io.BytesIO(data + b"!"), expected_digest=wrong)
    assert not server.local.exists(wrong)


def test_retries_a_busy_server_and_sends_the_token(server: Server) -> None:
    server.faults.unavailable = 2
    blobs = server.client(token="s3cret")
    digest, _ = blobs.put(io.BytesIO(b"after two 503s"))
    assert server.local.exists(digest)
    assert set(server.faults.auth) == {"Bearer s3cret"}
    assert len(server.faults.requests) == 2 + 2  # two refused, then missing and PUT


def test_gives_up_on_a_server_that_stays_down(server: Server) -> None:
    server.faults.unavailable = 100
    with pytest.raises(ServiceUnavailableError):
        server.client().exists(hash_bytes(b"x"))


def test_unreachable_server() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    blobs = RestBlobStore(f"http://127.0.0.1:{port}", retry=FAST_RETRY)
    with pytest.raises(ServiceUnavailableError):
        blobs.missing([hash_bytes(b"x")])


@pytest.mark.slow
def test_shipyard_server_with_blobs_on_s3(tmp_path: Path) -> None:
    """The whole path: RestBlobStore -> `shipyard server` process -> S3 (moto) on loopback."""
    with moto_s3() as s3:
        bucket = s3.new_bucket()
        env = {
            "SHIPYARD_S3_ENDPOINT_URL": s3.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        database = f"sqlite:///{tmp_path / 'shipyard.db'}"
        with live_server(database, f"s3://{bucket}/team", env=env) as url:
            blobs = RestBlobStore(url, retry=FAST_RETRY)
            data = os.urandom(2 * CHUNK_SIZE + 99)
            digest, size = blobs.put(io.BytesIO(data))
            assert b"".join(blobs.open(digest)) == data
            assert blobs.missing([digest]) == set()
            part = httpx.get(f"{url}/api/v1/blobs/{digest}", headers={"Range": "bytes=-10"})
            assert (part.status_code, part.content) == (206, data[-10:])
            blobs.close()
        raw = s3fs.S3FileSystem(**s3.storage_options())
        key = f"{bucket}/team/blobs/{digest[:2]}/{digest[2:4]}/{digest}"
        assert raw.size(key) == size


def test_parse_range_edge_cases() -> None:
    assert parse_range(None, 10) is None
    assert parse_range("bytes=2-4", 10) == ByteRange(2, 4, 10)
    assert parse_range(" BYTES = 2 - ", 10) == ByteRange(2, 9, 10)
    assert parse_range("bytes=-20", 10) == ByteRange(0, 9, 10)
    assert parse_range("bytes=" + "9" * 5000 + "-", 10) is None  # not parsed as a number
    assert parse_range("bytes=-", 10) is None
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=0-", 0)
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=-1", 0)


def _frame(*blobs: tuple[str, bytes]) -> bytes:
    return b"".join(
        json.dumps({"digest": digest, "size": len(data)}).encode() + b"\n" + data
        for digest, data in blobs
    )


def _batch(server: Server, body: bytes) -> httpx.Response:
    return httpx.post(f"{server.url}/api/v1/blobs/batch", content=body)


def test_put_many_batches_small_files_and_puts_big_ones(server: Server, tmp_path: Path) -> None:
    items: list[tuple[str, str, int]] = []
    contents: dict[str, bytes] = {}
    for index, size in enumerate([0, 1, 5000, 70_000, CHUNK_SIZE + 3, 10]):
        data = os.urandom(size)
        path = tmp_path / f"f{index}"
        path.write_bytes(data)
        digest = hash_bytes(data)
        contents[digest] = data
        items.append((str(path), digest, size))
    client = server.client()
    assert client.put_many(items) == sum(size for _, _, size in items)
    for digest, data in contents.items():
        assert b"".join(server.local.open(digest)) == data
    methods = [method for method, _, _ in server.faults.requests]
    assert methods.count("POST") == 1 and methods.count("PUT") == 1


def test_batch_with_a_corrupt_blob_in_the_middle(server: Server) -> None:
    good, bad, after = b"first blob", b"tampered", b"after the bad one"
    claimed = hash_bytes(b"what was hashed")
    body = _frame((hash_bytes(good), good), (claimed, bad), (hash_bytes(after), after))
    response = _batch(server, body)
    assert _error(response) == (400, "INVALID_INPUT")
    assert claimed in response.json()["error"]["message"]
    assert not server.local.exists(claimed)
    assert not server.local.exists(hash_bytes(after))


def test_put_many_reports_a_changed_file_by_its_digest(server: Server, tmp_path: Path) -> None:
    path = tmp_path / "changed"
    path.write_bytes(b"now")
    claimed = hash_bytes(b"then")
    with pytest.raises(DataCorruptionError, match=claimed):
        server.client().put_many([(str(path), claimed, 4)])
    assert not server.local.exists(claimed)


@pytest.mark.parametrize(
    "body",
    [
        b"not json\nxx",
        b'{"digest": "abc", "size": 1}\nx',
        b'["a list"]\n',
        b'{"digest": "' + b"0" * 64 + b'"}\n',
        b'{"digest": "' + b"0" * 64 + b'", "size": -1}\n',
        b'{"digest": "' + b"0" * 64 + b'", "size": true}\n',
        b'{"digest": "' + b"0" * 64 + b'", "size": 10}\nshort',
        b'{"digest": "' + b"0" * 64,
        b"x" * 5000,
    ],
)
def test_malformed_batches_are_refused(server: Server, body: bytes) -> None:
    response = _batch(server, body)
    assert _error(response) == (400, "INVALID_INPUT")
    assert "blob batch" in response.json()["error"]["message"] or "digest" in response.text


def test_oversized_batches_are_refused(server: Server) -> None:
    empty = hash_bytes(b"")
    too_many = _frame(*[(empty, b"")] * (BATCH_MAX_BLOBS + 1))
    assert _error(_batch(server, too_many)) == (413, "PAYLOAD_TOO_LARGE")
    huge = json.dumps({"digest": empty, "size": BATCH_MAX_BLOB_BYTES + 1}).encode() + b"\n"
    assert _error(_batch(server, huge)) == (413, "PAYLOAD_TOO_LARGE")
    assert not server.local.exists(empty)
    # The server answers normally afterwards; an empty batch stores nothing.
    assert _batch(server, b"").json() == {"stored": 0, "bytes": 0}
