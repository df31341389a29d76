"""Blob endpoints: ask which blobs are missing, upload one or a batch, download one.

Uploads and downloads are streamed both ways: an upload goes from the request
body straight into ``BlobStore.put`` (which spools and hashes it), a download
is read chunk by chunk, with HTTP range requests for resuming. A blob is
addressed by its BLAKE3 digest, so an upload is verified against its URL and a
download is immutable (``ETag`` is the digest).
"""

from __future__ import annotations

import contextlib
import io
import json
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from typing import Any, BinaryIO, cast

import anyio
import anyio.from_thread
import anyio.to_thread
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.requests import ClientDisconnect

from shipyard.errors import DataCorruptionError, InvalidInputError, PayloadTooLargeError
from shipyard.server.deps import blob_store_of
from shipyard.server.ranges import RangeNotSatisfiable, parse_range
from shipyard.store.artifacts import FsspecBlobStore
from shipyard.store.base import BlobStore
from shipyard.store.hashing import CHUNK_SIZE, validate_digest, validate_digests
from shipyard.store.packs import MAX_PACKED_BLOB, MIN_PACKED_BLOBS

__all__ = [
    "BATCH_MAX_BLOBS",
    "BATCH_MAX_BLOB_BYTES",
    "BATCH_MAX_BYTES",
    "BATCH_MEDIA_TYPE",
    "MAX_MISSING_DIGESTS",
    "BatchResponse",
    "BlobInfo",
    "MissingRequest",
    "MissingResponse",
    "blob_response",
    "router",
]

MAX_MISSING_DIGESTS = 10_000
MiB = 1024 * 1024
BATCH_MEDIA_TYPE = "application/x-shipyard-blob-batch"
BATCH_MAX_BYTES = 64 * MiB
BATCH_MAX_BLOBS = 10_000
BATCH_MAX_BLOB_BYTES = 16 * MiB
_MAX_HEADER_BYTES = 1024
# Parsed blobs are handed to the store in groups of about this much (a pack
# file each, for a local folder store).
_BATCH_FLUSH_BYTES = 16 * MiB
_DRAIN_BYTES = 32 * MiB

router = APIRouter(tags=["blobs"])


class MissingRequest(BaseModel):
    digests: list[str] = Field(max_length=MAX_MISSING_DIGESTS)


class MissingResponse(BaseModel):
    missing: list[str]


class BlobInfo(BaseModel):
    digest: str
    size: int


@router.post("/api/v1/blobs/missing", response_model=MissingResponse)
def missing_blobs(body: MissingRequest, request: Request) -> MissingResponse:
    """Which of these digests the server lacks (at most 10,000 per request), in request order."""
    digests = list(dict.fromkeys(validate_digests(body.digests)))
    absent = blob_store_of(request).missing(digests)
    return MissingResponse(missing=[digest for digest in digests if digest in absent])


class BatchResponse(BaseModel):
    stored: int
    bytes: int


@router.post(
    "/api/v1/blobs/batch",
    response_model=BatchResponse,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {BATCH_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def upload_blob_batch(request: Request) -> BatchResponse:
    """Store many small blobs sent in one body, each verified against its digest.

    The body is, for each blob, one JSON line ``{"digest": ..., "size": n}`` then
    exactly ``n`` bytes. At most 64 MiB and 10,000 blobs of up to 16 MiB each
    (413 past that). A blob that does not hash to its digest is refused with 400
    naming it; the blobs before it in the body are stored (they are named by
    their content, so keeping them is harmless), none after it.
    """
    store = blob_store_of(request)
    body = _FramedBody(request.stream())
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > BATCH_MAX_BYTES:
        if int(declared) <= BATCH_MAX_BYTES + _DRAIN_BYTES:
            await body.drain()
        raise PayloadTooLargeError(_batch_too_large())
    try:
        stored, total = await _store_batch(store, body)
    except (InvalidInputError, PayloadTooLargeError):
        await body.drain()
        raise
    except ClientDisconnect:
        raise InvalidInputError("the batch upload ended before its body did") from None
    return BatchResponse(stored=stored, bytes=total)


def _batch_too_large() -> str:
    return (
        f"a blob batch holds at most {BATCH_MAX_BYTES // MiB} MiB and {BATCH_MAX_BLOBS:,} blobs"
        f" of up to {BATCH_MAX_BLOB_BYTES // MiB} MiB each; send larger blobs one by one with PUT"
    )


async def _store_batch(store: BlobStore, body: _FramedBody) -> tuple[int, int]:
    pending: list[tuple[str, bytes]] = []
    pending_bytes = stored = total = 0
    while (header := await body.header()) is not None:
        digest, size = header
        if stored + len(pending) >= BATCH_MAX_BLOBS:
            raise PayloadTooLargeError(_batch_too_large())
        data = await body.exactly(size, digest)
        pending.append((digest, data))
        pending_bytes += size
        if pending_bytes >= _BATCH_FLUSH_BYTES:
            total += await anyio.to_thread.run_sync(_put_all, store, pending)
            stored, pending, pending_bytes = stored + len(pending), [], 0
    total += await anyio.to_thread.run_sync(_put_all, store, pending)
    return stored + len(pending), total


def _put_all(store: BlobStore, blobs: list[tuple[str, bytes]]) -> int:
    if _packable(store, blobs):
        assert isinstance(store, FsspecBlobStore)
        with contextlib.suppress(DataCorruptionError):
            store.pack_blobs(blobs)
            return sum(len(data) for _, data in blobs)
        # A blob that does not match: store them one by one below, which keeps
        # those before it and names it.
    total = 0
    for digest, data in blobs:
        try:
            store.put(io.BytesIO(data), digest)
        except DataCorruptionError as exc:
            raise InvalidInputError(
                f"content does not match digest {digest}: {exc.message}"
            ) from None
        total += len(data)
    return total


def _packable(store: BlobStore, blobs: list[tuple[str, bytes]]) -> bool:
    """Many small blobs for a local folder: one pack file rather than a file each."""
    return (
        isinstance(store, FsspecBlobStore)
        and store.is_local
        and len(blobs) >= MIN_PACKED_BLOBS
        and all(len(data) <= MAX_PACKED_BLOB for _, data in blobs)
    )


class _FramedBody:
    """The batch body, parsed as it arrives: header lines and the bytes they announce."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = bytearray()
        self._received = 0
        self._ended = False

    async def _more(self) -> bool:
        if self._ended:
            return False
        try:
            chunk = await self._chunks.__anext__()
        except StopAsyncIteration:
            self._ended = True
            return False
        self._received += len(chunk)
        if self._received > BATCH_MAX_BYTES:
            raise PayloadTooLargeError(_batch_too_large())
        self._buffer += chunk
        return True

    async def header(self) -> tuple[str, int] | None:
        """The next blob's (digest, size), or None at the end of the body."""
        while (end := self._buffer.find(b"\n", 0, _MAX_HEADER_BYTES)) < 0:
            if len(self._buffer) >= _MAX_HEADER_BYTES:
                raise InvalidInputError("malformed blob batch: a header line is too long")
            if not await self._more():
                if self._buffer:
                    raise InvalidInputError("malformed blob batch: the body ends inside a header")
                return None
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        try:
            header = json.loads(line)
        except ValueError:
            raise InvalidInputError("malformed blob batch: a header is not JSON") from None
        if not isinstance(header, dict) or set(header) != {"digest", "size"}:
            raise InvalidInputError(
                'malformed blob batch: each header must be {"digest": ..., "size": ...}'
            )
        digest, size = validate_digest(header["digest"]), header["size"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise InvalidInputError(
                f"malformed blob batch: the size of {digest} must be a whole number"
            )
        if size > BATCH_MAX_BLOB_BYTES:
            raise PayloadTooLargeError(_batch_too_large())
        return digest, size

    async def exactly(self, size: int, digest: str) -> bytes:
        while len(self._buffer) < size:
            if not await self._more():
                raise InvalidInputError(
                    f"malformed blob batch: the body ends inside blob {digest} "
                    f"({len(self._buffer)} of {size} bytes)"
                )
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    async def drain(self) -> None:
        """Read what is left (within the cap) so that the client reads the error."""
        self._buffer.clear()
        with contextlib.suppress(Exception):
            while not self._ended and self._received <= BATCH_MAX_BYTES + _DRAIN_BYTES:
                try:
                    self._received += len(await self._chunks.__anext__())
                except StopAsyncIteration:
                    self._ended = True


class _BodyReader:
    """A blocking ``read()`` over the request's async body, for a worker thread."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""
        self._done = False

    async def _next(self) -> bytes:
        try:
            return await self._chunks.__anext__()
        except StopAsyncIteration:
            return b""

    def read(self, size: int = -1) -> bytes:
        while not self._buffer and not self._done:
            self._buffer = anyio.from_thread.run(self._next)
            self._done = not self._buffer
        if size < 0 or size >= len(self._buffer):
            out, self._buffer = self._buffer, b""
        else:
            out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out


@router.put(
    "/api/v1/blobs/{digest}",
    response_model=BlobInfo,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def upload_blob(digest: str, request: Request) -> BlobInfo:
    """Store the raw request body; 400 when it does not hash to ``digest``."""
    validate_digest(digest)
    store = blob_store_of(request)
    reader = _BodyReader(request.stream())
    try:
        stored, size = await anyio.to_thread.run_sync(store.put, cast(BinaryIO, reader), digest)
    except DataCorruptionError as exc:
        raise InvalidInputError(f"content does not match digest {digest}: {exc.message}") from None
    except ClientDisconnect:
        raise InvalidInputError(f"the upload of {digest} ended before its body did") from None
    return BlobInfo(digest=stored, size=size)


_DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}}, "description": "The whole blob."},
    206: {"content": {"application/octet-stream": {}}, "description": "The range asked for."},
    416: {"description": "The range lies past the end; Content-Range names the size."},
}


@router.get("/api/v1/blobs/{digest}", response_class=Response, responses=_DOWNLOAD_RESPONSES)
def download_blob(digest: str, request: Request) -> Response:
    """The blob's bytes; ``Range: bytes=a-b`` answers 206, a range past the end 416.

    Several ranges in one header are not served: the answer is the whole blob (200).
    """
    return _answer(digest, request, head=False)


@router.head("/api/v1/blobs/{digest}", response_class=Response, responses=_DOWNLOAD_RESPONSES)
def blob_headers(digest: str, request: Request) -> Response:
    """What GET would answer (size in Content-Length), without the bytes."""
    return _answer(digest, request, head=True)


def _answer(digest: str, request: Request, head: bool) -> Response:
    return blob_response(
        blob_store_of(request),
        digest,
        request.headers.get("range"),
        head=head,
        if_range=request.headers.get("if-range"),
    )


def _content_disposition(filename: str) -> str:
    name = filename.rsplit("/", 1)[-1] or "download"
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{urllib.parse.quote(name)}"


def _window(chunks: Iterator[bytes], length: int) -> Iterator[bytes]:
    """The first ``length`` bytes of ``chunks``; closes the source when done or dropped."""
    try:
        left = length
        for chunk in chunks:
            if len(chunk) >= left:
                if left:
                    yield chunk[:left]
                return
            left -= len(chunk)
            yield chunk
    finally:
        close = getattr(chunks, "close", None)
        if callable(close):
            close()


def blob_response(
    blob_store: BlobStore,
    digest: str,
    range_header: str | None = None,
    filename: str | None = None,
    *,
    head: bool = False,
    if_range: str | None = None,
    media_type: str = "application/octet-stream",
) -> Response:
    """A streamed answer for one blob, honouring ``Range`` (and ``If-Range``).

    For every route that sends a blob (``/api/v1/blobs/{digest}``, run artifacts).
    It does blocking I/O: call it from a plain ``def`` route (FastAPI runs those in
    a worker thread). ``filename`` adds a ``Content-Disposition: attachment``.
    Raises ``NotFoundError`` / ``InvalidInputError`` before anything is sent. A small
    blob that is corrupt raises ``DataCorruptionError`` before anything is sent; when a
    large one turns out corrupt while streaming, its last chunk is withheld and the
    connection is dropped, so a client never receives a complete-looking copy.
    """
    validate_digest(digest)
    size = blob_store.size(digest)
    etag = f'"{digest}"'
    headers: dict[str, Any] = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Cache-Control": "private, max-age=31536000, immutable",
    }
    if filename:
        headers["Content-Disposition"] = _content_disposition(filename)
    # If-Range names the version the client holds; another one gets everything.
    use_range = range_header is not None and (if_range is None or if_range.strip() == etag)
    try:
        byte_range = parse_range(range_header, size) if use_range else None
    except RangeNotSatisfiable as exc:
        headers["Content-Range"] = exc.content_range
        return JSONResponse(
            {"error": {"code": "RANGE_NOT_SATISFIABLE", "message": str(exc)}},
            status_code=416,
            headers=headers,
        )
    start, length, status = 0, size, 200
    if byte_range is not None:
        start, length, status = byte_range.start, byte_range.length, 206
        headers["Content-Range"] = byte_range.content_range
    headers["Content-Length"] = str(length)
    if head:
        return Response(status_code=status, headers=headers, media_type=media_type)
    if status == 200 and size <= CHUNK_SIZE:
        # A small blob is read (and verified) whole before anything is sent, so
        # corruption is answered as a DATA_CORRUPTION error, not a dropped connection.
        content = b"".join(blob_store.open(digest))
        return Response(content, status_code=status, headers=headers, media_type=media_type)
    body = _window(blob_store.open(digest, start), length)
    return StreamingResponse(body, status_code=status, headers=headers, media_type=media_type)
