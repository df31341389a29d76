"""Blob endpoints: ask which blobs are missing, upload one, download one.

Uploads and downloads are streamed both ways: an upload goes from the request
body straight into ``BlobStore.put`` (which spools and hashes it), a download
is read chunk by chunk, with HTTP range requests for resuming. A blob is
addressed by its BLAKE3 digest, so an upload is verified against its URL and a
download is immutable (``ETag`` is the digest).
"""

from __future__ import annotations

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

from shipyard.errors import DataCorruptionError, InvalidInputError
from shipyard.server.deps import blob_store_of
from shipyard.server.ranges import RangeNotSatisfiable, parse_range
from shipyard.store.base import BlobStore
from shipyard.store.hashing import CHUNK_SIZE, validate_digest, validate_digests

__all__ = [
    "MAX_MISSING_DIGESTS",
    "BlobInfo",
    "MissingRequest",
    "MissingResponse",
    "blob_response",
    "router",
]

MAX_MISSING_DIGESTS = 10_000

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
