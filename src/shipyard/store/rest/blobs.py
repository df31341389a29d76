"""``RestBlobStore``: the blob store of a Shipyard server, over HTTP.

Every blob request is idempotent (an upload is named by its content), so each
is retried with backoff on connection errors and on 429/502/503/504, within
the bounds of a :class:`RetryPolicy`. ``put`` hashes the source first and
uploads only what the server lacks; ``put_many`` sends many small files per
request; ``open`` resumes an interrupted download with a ``Range`` request
from the bytes already received and, for a whole blob, checks the hash itself.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import BinaryIO

import httpx

from shipyard._version import __version__
from shipyard.errors import (
    DataCorruptionError,
    InvalidInputError,
    NotFoundError,
    ServiceUnavailableError,
    ShipyardError,
)
from shipyard.store.base import BlobStore
from shipyard.store.hashing import (
    CHUNK_SIZE,
    Hasher,
    copy_hashing,
    hash_stream,
    new_hasher,
    validate_digest,
    validate_digests,
)
from shipyard.store.rest.fetch_frames import FRAME_HEADER_ROOM, fetch_requests, parse_frames
from shipyard.store.rest.http import RETRY_STATUSES, RetryPolicy, raise_for_error

__all__ = ["RestBlobStore"]

BLOBS_PATH = "/api/v1/blobs"
MAX_MISSING_PER_REQUEST = 10_000
BATCH_MEDIA_TYPE = "application/x-shipyard-blob-batch"
# Files below this size go in batches; the server takes batches of up to
# 64 MiB and 10,000 blobs, and smaller ones spread over parallel uploads.
BATCH_BLOB_LIMIT = 1024 * 1024
BATCH_MAX_BYTES = 8 * 1024 * 1024
BATCH_MAX_FILES = 2_000
# Resumed downloads: how many times one download may pick up after a drop.
RESUME_ATTEMPTS = 5
_TRANSIENT = (httpx.TransportError,)


class _ReplayableBody(Iterable[bytes]):
    """``size`` bytes of a file from ``start``: every iteration starts over, so a retry resends."""

    def __init__(self, source: BinaryIO, start: int, size: int) -> None:
        self._source = source
        self._start = start
        self._size = size

    def __iter__(self) -> Iterator[bytes]:
        self._source.seek(self._start)
        left = self._size
        while left > 0:
            chunk = self._source.read(min(CHUNK_SIZE, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


class RestBlobStore(BlobStore):
    """Blobs on the Shipyard server at ``base_url``."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise InvalidInputError(f"server URL {base_url!r} must start with http:// or https://")
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        headers = {"User-Agent": f"shipyard/{__version__}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        )

    def __repr__(self) -> str:
        return f"RestBlobStore({self.base_url!r})"

    def close(self) -> None:
        self._client.close()

    # -- transport ---------------------------------------------------------------
    def _send(self, build: Callable[[], httpx.Request], stream: bool = False) -> httpx.Response:
        """Send, retrying transient failures; the answer may still be an error."""
        started = time.monotonic()
        attempt = 0
        while True:
            request = build()
            attempt += 1
            try:
                response = self._client.send(request, stream=stream)
            except httpx.UnsupportedProtocol as exc:
                raise InvalidInputError(
                    f"cannot use the server URL {self.base_url!r}: {exc}"
                ) from exc
            except _TRANSIENT as exc:
                reason = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code not in RETRY_STATUSES:
                    return response
                reason = f"HTTP {response.status_code}"
                response.close()
            delay = self.retry.delay(attempt - 1)
            elapsed = time.monotonic() - started
            if attempt >= self.retry.attempts or elapsed + delay > self.retry.deadline:
                raise ServiceUnavailableError(
                    f"{request.method} {request.url} failed after {attempt} attempts: {reason}"
                )
            time.sleep(delay)

    def _head(self, digest: str) -> httpx.Response:
        url = f"{BLOBS_PATH}/{validate_digest(digest)}"
        response = self._send(lambda: self._client.build_request("HEAD", url))
        if response.status_code == 404:
            raise NotFoundError(f"blob {digest} not found on {self.base_url}")
        raise_for_error(response)
        return response

    # -- BlobStore ---------------------------------------------------------------
    def exists(self, digest: str) -> bool:
        try:
            self._head(digest)
        except NotFoundError:
            return False
        return True

    def size(self, digest: str) -> int:
        return int(self._head(digest).headers["Content-Length"])

    def missing(self, digests: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(validate_digests(digests)))
        absent: set[str] = set()
        for at in range(0, len(wanted), MAX_MISSING_PER_REQUEST):
            body = {"digests": wanted[at : at + MAX_MISSING_PER_REQUEST]}
            response = self._send(
                functools.partial(
                    self._client.build_request, "POST", f"{BLOBS_PATH}/missing", json=body
                )
            )
            raise_for_error(response)
            absent.update(validate_digests(response.json()["missing"]))
        return absent

    def put(self, source: BinaryIO, expected_digest: str | None = None) -> tuple[str, int]:
        if expected_digest is not None:
            validate_digest(expected_digest, "expected digest")
            if _seekable(source):
                # The caller knows the digest (and has usually asked `missing`):
                # send the bytes once, unhashed here; the server verifies them.
                start = source.tell()
                size = source.seek(0, io.SEEK_END) - start
                source.seek(start)
                self._upload(expected_digest, _ReplayableBody(source, start, size), size)
                return expected_digest, size
        with contextlib.ExitStack() as stack:
            if _seekable(source):
                body, start = source, source.tell()
                digest, size = hash_stream(source)
            else:
                body, start = stack.enter_context(tempfile.TemporaryFile()), 0
                digest, size = copy_hashing(source, body)
            if expected_digest is not None and digest != expected_digest:
                raise DataCorruptionError(
                    f"content hashes to {digest}, not the expected {expected_digest}"
                )
            if self.missing([digest]):
                self._upload(digest, _ReplayableBody(body, start, size), size)
        return digest, size

    def put_many(self, items: Iterable[tuple[str, str, int]]) -> int:
        """Upload files whose (path, digest, size) the caller knows; the number of bytes sent.

        Files under 1 MiB travel together, many per request (one request per
        file is what makes many small files slow); larger ones go one by one.
        The server verifies every blob: a file that changed since it was hashed
        raises ``DataCorruptionError`` naming its digest.
        """
        sent = 0
        batch: list[tuple[str, str, int]] = []
        batch_bytes = 0
        for path, digest, size in items:
            validate_digest(digest)
            if size >= BATCH_BLOB_LIMIT:
                with open(path, "rb") as handle:
                    self.put(handle, digest)
                sent += size
                continue
            if batch and (len(batch) >= BATCH_MAX_FILES or batch_bytes + size > BATCH_MAX_BYTES):
                sent += self._upload_batch(batch)
                batch, batch_bytes = [], 0
            batch.append((path, digest, size))
            batch_bytes += size
        if batch:
            sent += self._upload_batch(batch)
        return sent

    def _upload_batch(self, batch: list[tuple[str, str, int]]) -> int:
        parts: list[bytes] = []
        for path, digest, _size in batch:
            with open(path, "rb") as handle:
                data = handle.read()
            # The length read is announced: a file that changed size fails the
            # server's hash check by its digest, and the framing stays intact.
            parts.append(json.dumps({"digest": digest, "size": len(data)}).encode() + b"\n")
            parts.append(data)
        body = b"".join(parts)
        headers = {"Content-Type": BATCH_MEDIA_TYPE}
        response = self._send(
            lambda: self._client.build_request(
                "POST", f"{BLOBS_PATH}/batch", content=body, headers=headers
            )
        )
        try:
            raise_for_error(response)
        except InvalidInputError as exc:
            raise DataCorruptionError(
                f"the server refused a blob batch (did a file change while uploading?): "
                f"{exc.message}"
            ) from None
        stored = int(response.json()["stored"])
        if stored != len(batch):
            raise DataCorruptionError(f"the server stored {stored} of {len(batch)} blobs sent")
        return sum(size for _, _, size in batch)

    def _upload(self, digest: str, body: _ReplayableBody, size: int) -> None:
        url = f"{BLOBS_PATH}/{digest}"
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        response = self._send(
            lambda: self._client.build_request("PUT", url, content=body, headers=headers)
        )
        try:
            raise_for_error(response)
        except InvalidInputError as exc:
            raise DataCorruptionError(
                f"the server received other bytes than those hashed to {digest} "
                f"(did the file change while uploading?): {exc.message}"
            ) from None

    def fetch_many(
        self, wanted: Sequence[tuple[str, int]]
    ) -> dict[str, bytes | ShipyardError] | None:
        """Small blobs by (digest, expected size), many per request; None from a server
        without ``POST /api/v1/blobs/fetch`` (fetch them one by one then).

        Each blob's hash is checked here: one that does not match, or that the
        server reports absent or corrupt, maps to the error instead of bytes.
        """
        sizes = dict(wanted)
        found: dict[str, bytes | ShipyardError] = {}
        for request in fetch_requests(sizes):
            answered = self._fetch({digest: sizes[digest] for digest in request})
            if answered is None:
                return None
            found.update(answered)
        return found

    def _fetch(self, sizes: dict[str, int]) -> dict[str, bytes | ShipyardError] | None:
        """One fetch request; an answer that breaks off is asked for again (it is idempotent)."""
        for attempt in range(1, RESUME_ATTEMPTS + 1):
            try:
                body = self._fetch_body(sizes)
            except httpx.TransportError as exc:
                if attempt == RESUME_ATTEMPTS:
                    raise ServiceUnavailableError(
                        f"a blob batch from {self.base_url} broke off {attempt} times: {exc}"
                    ) from exc
                continue
            return None if body is None else parse_frames(body, sizes)
        raise AssertionError("unreachable")

    def _fetch_body(self, sizes: dict[str, int]) -> bytes | None:
        response = self._send(
            functools.partial(
                self._client.build_request,
                "POST",
                f"{BLOBS_PATH}/fetch",
                json={"digests": list(sizes)},
            ),
            stream=True,
        )
        try:
            if response.status_code in (404, 405):
                return None
            if not response.is_success:
                response.read()
                raise_for_error(response)
            # Never more than was asked for, whatever the server sends.
            limit = sum(sizes.values()) + FRAME_HEADER_ROOM * len(sizes)
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise ServiceUnavailableError(
                        f"{self.base_url} answered a blob batch with more bytes than asked for"
                    )
            return bytes(body)
        finally:
            response.close()

    def open(self, digest: str, offset: int = 0) -> Iterator[bytes]:
        """Chunks from ``offset``; ``NotFoundError`` is raised here, at once.

        Read whole, the hash is checked at the end and a mismatch raises
        ``DataCorruptionError``: trust the bytes only once the iteration ended.
        """
        validate_digest(digest)
        if offset < 0:
            raise InvalidInputError(f"offset must not be negative, got {offset}")
        return _Download(self, digest, offset)

    def _get(self, digest: str, start: int) -> httpx.Response | None:
        """A streamed answer from byte ``start``, or None when ``start`` is the end."""
        url = f"{BLOBS_PATH}/{digest}"
        headers = {"Range": f"bytes={start}-"} if start else {}
        response = self._send(
            lambda: self._client.build_request("GET", url, headers=headers), stream=True
        )
        if response.status_code == 416:
            response.close()
            total = response.headers.get("Content-Range", "").rpartition("/")[2]
            if total == str(start):
                return None
            raise InvalidInputError(f"offset {start} is past the end of blob {digest}")
        if not response.is_success:
            response.read()
            response.close()
            raise_for_error(response)
        return response


def _seekable(source: BinaryIO) -> bool:
    try:
        return source.seekable()
    except (AttributeError, OSError, ValueError):
        return False


class _Download(Iterator[bytes]):
    """One download that picks up where it broke off, a bounded number of times."""

    def __init__(self, store: RestBlobStore, digest: str, offset: int) -> None:
        self._store = store
        self._digest = digest
        self._position = offset
        self._hasher: Hasher | None = new_hasher() if offset == 0 else None
        self._resumes = 0
        self._response = store._get(digest, offset)
        self._chunks = self._iterate(self._response)

    def _iterate(self, response: httpx.Response | None) -> Iterator[bytes]:
        if response is None:
            return iter(())
        # A server that ignored the Range header sends everything: skip what we have.
        skip = self._position if response.status_code == 200 else 0
        return _skip(response.iter_bytes(CHUNK_SIZE), skip)

    def __iter__(self) -> _Download:
        return self

    def __next__(self) -> bytes:
        while True:
            try:
                chunk = next(self._chunks)
            except StopIteration:
                self.close()
                self._verify()
                raise
            except (httpx.ReadError, httpx.ReadTimeout, httpx.RemoteProtocolError) as exc:
                self._resume(exc)
                continue
            except BaseException:
                self.close()
                raise
            self._position += len(chunk)
            if self._hasher is not None:
                self._hasher.update(chunk)
            return chunk

    def _resume(self, exc: Exception) -> None:
        self.close()
        self._resumes += 1
        if self._resumes > RESUME_ATTEMPTS:
            raise ServiceUnavailableError(
                f"download of blob {self._digest} broke off {self._resumes} times "
                f"(last: {type(exc).__name__}: {exc})"
            ) from exc
        time.sleep(self._store.retry.delay(self._resumes - 1))
        self._response = self._store._get(self._digest, self._position)
        self._chunks = self._iterate(self._response)

    def _verify(self) -> None:
        if self._hasher is None:
            return
        actual, self._hasher = self._hasher.hexdigest(), None
        if actual != self._digest:
            raise DataCorruptionError(
                f"blob {self._digest} is corrupt: the bytes received hash to {actual}"
            )

    def close(self) -> None:
        response, self._response = self._response, None
        self._chunks = iter(())
        if response is not None:
            response.close()


def _skip(chunks: Iterator[bytes], count: int) -> Iterator[bytes]:
    for chunk in chunks:
        if count >= len(chunk):
            count -= len(chunk)
            continue
        yield chunk[count:] if count else chunk
        count = 0
