"""FsspecBlobStore on a local folder, on fsspec's memory filesystem and on S3 (moto)."""

from __future__ import annotations

import io
import os
import threading
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import s3fs

from shipyard.errors import DataCorruptionError, InvalidInputError, NotFoundError
from shipyard.store.artifacts import FsspecBlobStore
from shipyard.store.hashing import (
    CHUNK_SIZE,
    hash_bytes,
    hash_file,
    hash_stream,
    validate_digest,
)
from tests.support.s3 import S3Endpoint, moto_s3

ABSENT = "0" * 64


class Backend:
    """A blob store plus raw access to the objects under it, to inspect or damage them."""

    def __init__(self, store: FsspecBlobStore, fs: Any, root: str) -> None:
        self.store = store
        self.fs = fs
        self.root = root

    def blob_path(self, digest: str) -> str:
        if self.local:
            return f"{self.root}/blobs/{digest[:2]}/{digest}"
        return f"{self.root}/blobs/{digest[:2]}/{digest[2:4]}/{digest}"

    @property
    def local(self) -> bool:
        return self.fs.protocol == "file" or "file" in self.fs.protocol

    def all_objects(self) -> list[str]:
        """Every object below the root but a local store's layout marker."""
        return sorted(p for p in self.fs.find(self.root) if not p.endswith("/blobs/LAYOUT"))

    def overwrite(self, digest: str, data: bytes) -> None:
        path = self.blob_path(digest)
        if self.local:
            os.chmod(path, 0o644)  # blobs are stored read-only
        self.fs.pipe_file(path, data)


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Endpoint]:
    with moto_s3() as endpoint:
        yield endpoint


@pytest.fixture(params=["local", "memory", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "local":
        import fsspec

        root = str(tmp_path / "blobs-root")
        yield Backend(FsspecBlobStore(root), fsspec.filesystem("file"), root)
    elif request.param == "memory":
        import fsspec

        root = f"/test-{uuid.uuid4().hex}"
        fs = fsspec.filesystem("memory")
        yield Backend(FsspecBlobStore(f"memory://{root}"), fs, root)
        if fs.exists(root):
            fs.rm(root, recursive=True)
    else:
        endpoint: S3Endpoint = request.getfixturevalue("s3")
        root = f"{endpoint.new_bucket()}/team/artifacts"
        options = endpoint.storage_options()
        store = FsspecBlobStore(f"s3://{root}", storage_options=options)
        yield Backend(store, s3fs.S3FileSystem(**options, use_listings_cache=False), root)


def test_put_then_read_back(backend: Backend) -> None:
    data = os.urandom(1000)
    digest, size = backend.store.put(io.BytesIO(data))
    assert (digest, size) == (hash_bytes(data), 1000)
    assert b"".join(backend.store.open(digest)) == data
    assert b"".join(backend.store.open(digest, offset=990)) == data[990:]
    assert backend.store.exists(digest)
    assert backend.store.size(digest) == 1000
    assert backend.fs.cat_file(backend.blob_path(digest)) == data


def test_empty_blob(backend: Backend) -> None:
    digest, size = backend.store.put(io.BytesIO(b""))
    assert size == 0
    assert list(backend.store.open(digest)) == []
    assert backend.store.size(digest) == 0


def test_same_content_is_stored_once(backend: Backend) -> None:
    data = b"the same bytes" * 100
    first = backend.store.put(io.BytesIO(data))
    before = backend.all_objects()
    second = backend.store.put(io.BytesIO(data))
    assert first == second
    assert backend.all_objects() == before
    assert [p for p in before if "/blobs/" in p] == [backend.blob_path(first[0])]


def test_large_blob_streams_in_chunks(backend: Backend, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    data = os.urandom(5 * CHUNK_SIZE + 123)
    source.write_bytes(data)
    digest, size = backend.store.put_file(str(source))
    assert (digest, size) == hash_file(source)
    chunks = list(backend.store.open(digest))
    assert len(chunks) > 1
    assert all(len(chunk) <= CHUNK_SIZE for chunk in chunks)
    assert b"".join(chunks) == data
    assert (
        b"".join(backend.store.open(digest, offset=3 * CHUNK_SIZE + 7))
        == data[3 * CHUNK_SIZE + 7 :]
    )


def test_local_put_and_read_hold_a_few_chunks_not_the_file(tmp_path: Path) -> None:
    store = FsspecBlobStore(str(tmp_path / "root"))
    source = tmp_path / "big.bin"
    with source.open("wb") as out:
        for _ in range(16):
            out.write(os.urandom(CHUNK_SIZE))
    tracemalloc.start()
    try:
        digest, size = store.put_file(str(source))
        read = sum(len(chunk) for chunk in store.open(digest))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert read == size == 16 * CHUNK_SIZE
    assert peak < 4 * CHUNK_SIZE, f"peak {peak} bytes for a {size}-byte blob"


def test_flipped_byte_is_detected_on_read(backend: Backend) -> None:
    data = os.urandom(2 * CHUNK_SIZE + 10)
    digest, _ = backend.store.put(io.BytesIO(data))
    damaged = bytearray(data)
    damaged[-1] ^= 0x01
    backend.overwrite(digest, bytes(damaged))
    received: list[bytes] = []
    with pytest.raises(DataCorruptionError, match=digest):
        for chunk in backend.store.open(digest):
            received.append(chunk)
    # The last chunk is held back until the hash is checked: no complete copy escapes.
    assert sum(map(len, received)) < len(data)
    # A partial read cannot be checked, and is served as stored.
    assert b"".join(backend.store.open(digest, offset=1)) == bytes(damaged[1:])


def test_expected_digest_mismatch_stores_nothing(backend: Backend) -> None:
    wrong = hash_bytes(b"something else")
    with pytest.raises(DataCorruptionError, match=wrong):
        backend.store.put(io.BytesIO(b"payload"), expected_digest=wrong)
    assert [p for p in backend.all_objects() if "/blobs/" in p] == []
    assert backend.store.missing([wrong, hash_bytes(b"payload")]) == {
        wrong,
        hash_bytes(b"payload"),
    }
    digest, _ = backend.store.put(io.BytesIO(b"payload"), expected_digest=hash_bytes(b"payload"))
    assert backend.store.exists(digest)


def test_missing_answers_for_a_batch(backend: Backend) -> None:
    present = [backend.store.put(io.BytesIO(f"blob {i}".encode()))[0] for i in range(5)]
    absent = [hash_bytes(f"never stored {i}".encode()) for i in range(40)]
    # Same shard as a stored blob, different digest: the listing must not confuse them.
    same_shard = present[0][:4] + "f" * 60
    assert backend.store.missing([*present, *absent, same_shard, present[0]]) == {
        *absent,
        same_shard,
    }
    assert backend.store.missing(present) == set()
    assert backend.store.missing([]) == set()


def test_absent_blob_is_not_found(backend: Backend) -> None:
    assert not backend.store.exists(ABSENT)
    with pytest.raises(NotFoundError):
        backend.store.open(ABSENT)
    with pytest.raises(NotFoundError):
        backend.store.size(ABSENT)


@pytest.mark.parametrize("bad", ["ABC", "A" * 64, "g" * 64, "0" * 63, "0" * 64 + "\n", "../x"])
def test_malformed_digests_are_refused(tmp_path: Path, bad: str) -> None:
    store = FsspecBlobStore(str(tmp_path))
    for call in (
        lambda: store.exists(bad),
        lambda: store.size(bad),
        lambda: store.missing([ABSENT, bad]),
        lambda: store.open(bad),
        lambda: store.put(io.BytesIO(b"x"), expected_digest=bad),
    ):
        with pytest.raises(InvalidInputError, match="digest"):
            call()
    assert not (tmp_path / "blobs").exists()


def test_offset_past_the_end_is_refused(backend: Backend) -> None:
    digest, size = backend.store.put(io.BytesIO(b"0123456789"))
    assert list(backend.store.open(digest, offset=size)) == []
    with pytest.raises(InvalidInputError):
        backend.store.open(digest, offset=size + 1)


def test_concurrent_puts_of_the_same_content(backend: Backend) -> None:
    data = os.urandom(3 * CHUNK_SIZE)
    results: list[tuple[str, int]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def put() -> None:
        try:
            barrier.wait()
            results.append(backend.store.put(io.BytesIO(data)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=put) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert set(results) == {(hash_bytes(data), len(data))}
    assert b"".join(backend.store.open(hash_bytes(data))) == data
    assert [p for p in backend.all_objects() if "/blobs/" in p] == [
        backend.blob_path(hash_bytes(data))
    ]


def test_local_layout_and_read_only_blobs(tmp_path: Path) -> None:
    store = FsspecBlobStore(str(tmp_path))
    digest, _ = store.put(io.BytesIO(b"layout"))
    path = tmp_path / "blobs" / digest[:2] / digest
    assert path.read_bytes() == b"layout"
    assert path.stat().st_mode & 0o222 == 0
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_new_local_store_is_marked_with_its_layout(tmp_path: Path) -> None:
    FsspecBlobStore(str(tmp_path)).put(io.BytesIO(b"first"))
    assert (tmp_path / "blobs" / "LAYOUT").read_text() == "flat-256\n"
    # Reopened, it keeps the one-level layout and does not look elsewhere.
    store = FsspecBlobStore(str(tmp_path))
    digest, _ = store.put(io.BytesIO(b"again"))
    assert (tmp_path / "blobs" / digest[:2] / digest).is_file()
    assert [blob.digest for blob in store.iter_blobs()] == sorted([digest, hash_bytes(b"first")])


def _legacy_store(root: Path, contents: list[bytes]) -> list[str]:
    """Blobs as a store of the two-level layout holds them: blobs/ab/cd/<digest>, no marker."""
    digests = []
    for data in contents:
        digest = hash_bytes(data)
        path = root / "blobs" / digest[:2] / digest[2:4] / digest
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o444)
        digests.append(digest)
    return digests


def test_a_two_level_local_store_stays_readable_and_takes_new_blobs(tmp_path: Path) -> None:
    old = _legacy_store(tmp_path, [b"old one", b"old two"])
    store = FsspecBlobStore(str(tmp_path))
    assert not (tmp_path / "blobs" / "LAYOUT").exists()
    assert b"".join(store.open(old[0])) == b"old one"
    assert store.exists(old[1]) and store.size(old[1]) == len(b"old two")
    assert store.missing([*old, ABSENT]) == {ABSENT}
    local = store.local_path(old[0])
    assert local is not None and Path(local).read_bytes() == b"old one"
    # Storing existing content again adds nothing; new content goes to the new place.
    assert store.put(io.BytesIO(b"old one")) == (old[0], len(b"old one"))
    new, _ = store.put(io.BytesIO(b"new"))
    assert (tmp_path / "blobs" / new[:2] / new).is_file()
    assert not (tmp_path / "blobs" / old[0][:2] / old[0]).exists()
    listed = [blob.digest for blob in store.iter_blobs()]
    assert listed == sorted([*old, new])
    assert store.delete(old[0]) and not store.exists(old[0])
    assert not store.delete(old[0])
    with pytest.raises(NotFoundError):
        store.open(old[0])


def test_local_torn_blob_is_repaired_by_the_next_put(tmp_path: Path) -> None:
    store = FsspecBlobStore(f"file://{tmp_path}")
    digest, _ = store.put(io.BytesIO(b"complete content"))
    path = tmp_path / "blobs" / digest[:2] / digest
    os.chmod(path, 0o644)
    path.write_bytes(b"")  # what a crash before the data reached the disk leaves
    with pytest.raises(DataCorruptionError):
        list(store.open(digest))
    store.put(io.BytesIO(b"complete content"))
    assert b"".join(store.open(digest)) == b"complete content"


def test_local_fsync_option(tmp_path: Path) -> None:
    store = FsspecBlobStore(str(tmp_path), fsync=True)
    digest, _ = store.put(io.BytesIO(b"durable"))
    assert b"".join(store.open(digest)) == b"durable"


def test_non_seekable_source(backend: Backend) -> None:
    read_end, write_end = os.pipe()
    data = os.urandom(CHUNK_SIZE + 5)
    writer = threading.Thread(target=lambda: (os.write(write_end, data), os.close(write_end)))
    writer.start()
    with os.fdopen(read_end, "rb") as pipe:
        digest, size = backend.store.put(pipe)
    writer.join()
    assert (digest, size) == (hash_bytes(data), len(data))


@pytest.mark.parametrize("variable", ["SHIPYARD_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL"])
def test_s3_endpoint_from_the_environment(
    s3: S3Endpoint, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv(variable, s3.url)
    bucket = s3.new_bucket()
    # A fresh instance: fsspec caches filesystems by their options, not by the environment.
    store = FsspecBlobStore(f"s3://{bucket}/env", storage_options={"skip_instance_cache": True})
    digest, _ = store.put(io.BytesIO(b"via the environment"))
    assert b"".join(store.open(digest)) == b"via the environment"
    raw = s3fs.S3FileSystem(**s3.storage_options())
    assert raw.cat_file(f"{bucket}/env/blobs/{digest[:2]}/{digest[2:4]}/{digest}") == (
        b"via the environment"
    )


def test_hashing_helpers_agree(tmp_path: Path) -> None:
    data = os.urandom(17 * CHUNK_SIZE)  # past the size where files are memory-mapped
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    expected = hash_bytes(data)
    assert hash_file(path) == (expected, len(data))
    assert hash_stream(io.BytesIO(data)) == (expected, len(data))
    assert hash_file(tmp_path / "f.bin") == hash_stream(path.open("rb"))
    # The BLAKE3 test vector of the empty input.
    assert hash_bytes(b"") == "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
    assert validate_digest(expected) == expected


def _stat_key(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


def test_put_path_copies_a_known_file_read_only(tmp_path: Path) -> None:
    store = FsspecBlobStore(str(tmp_path / "store"))
    source = tmp_path / "a.bin"
    source.write_bytes(b"known content" * 100)
    digest, size = hash_file(source)
    assert store.put_path(str(source), digest, size, _stat_key(source)) is True
    assert b"".join(store.open(digest)) == source.read_bytes()
    stored = store.local_path(digest)
    assert stored is not None and os.stat(stored).st_mode & 0o777 == 0o444
    assert store.put_path(str(source), digest, size, _stat_key(source)) is False
    assert list((tmp_path / "store" / "tmp").iterdir()) == []


def test_put_path_hashes_a_file_changed_since_it_was_hashed(tmp_path: Path) -> None:
    store = FsspecBlobStore(str(tmp_path / "store"))
    source = tmp_path / "a.bin"
    source.write_bytes(b"first")
    digest, size = hash_file(source)
    key = _stat_key(source)
    source.write_bytes(b"other")  # same size; the mtime moves on
    os.utime(source, ns=(key[1] + 1_000_000, key[1] + 1_000_000))
    with pytest.raises(DataCorruptionError):
        store.put_path(str(source), digest, size, key)
    assert not store.exists(digest)
    # Changed back to the hashed content: the fallback hashes and stores it.
    source.write_bytes(b"first")
    assert store.put_path(str(source), digest, size, _stat_key(source)) is True
    assert b"".join(store.open(digest)) == b"first"


def test_put_path_without_a_stat_or_off_a_local_folder_verifies(tmp_path: Path) -> None:
    source = tmp_path / "a.bin"
    source.write_bytes(b"payload")
    digest, size = hash_file(source)
    wrong = hash_bytes(b"something else")
    for store in (FsspecBlobStore(str(tmp_path / "store")), FsspecBlobStore("memory://put-path")):
        with pytest.raises(DataCorruptionError):
            store.put_path(str(source), wrong, size, None)
        assert store.put_path(str(source), digest, size, _stat_key(source)) is True
        assert b"".join(store.open(digest)) == b"payload"
        with pytest.raises(InvalidInputError):
            store.put_path(str(source), "not-a-digest", size)
