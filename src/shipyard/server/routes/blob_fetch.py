"""Many small blobs in one answer: what a checkout of many small files asks for.

``POST /api/v1/blobs/fetch`` with ``{"digests": [...]}`` answers, in request
order, one frame per digest in the batch upload's framing: a JSON header line
``{"digest": ..., "size": n}`` followed by exactly ``n`` bytes, or, for a blob
that is absent or corrupt, ``{"digest": ..., "error": {"code", "message"}}``
and no bytes. Every blob is read whole and its hash checked before it is
sent; the client checks it again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from shipyard.errors import NotFoundError, PayloadTooLargeError, ShipyardError
from shipyard.server.deps import blob_store_of
from shipyard.server.routes.blobs import (
    BATCH_MAX_BLOB_BYTES,
    BATCH_MAX_BLOBS,
    BATCH_MAX_BYTES,
    BATCH_MEDIA_TYPE,
)
from shipyard.store.base import BlobStore
from shipyard.store.hashing import validate_digests

__all__ = ["FetchRequest", "router"]

# Frames are sent in pieces of about this much: one piece per blob would cost
# a thread hop each.
_PIECE_BYTES = 1024 * 1024

router = APIRouter(tags=["blobs"])


class FetchRequest(BaseModel):
    digests: list[str] = Field(max_length=BATCH_MAX_BLOBS)


@router.post(
    "/api/v1/blobs/fetch",
    response_class=Response,
    responses={
        200: {"content": {BATCH_MEDIA_TYPE: {}}, "description": "One frame per digest."},
        413: {"description": "More than 64 MiB in all, or a blob over 16 MiB."},
    },
)
def fetch_blobs(body: FetchRequest, request: Request) -> Response:
    """The blobs named, framed (see the module's description); at most 10,000 blobs
    and 64 MiB in all, each of at most 16 MiB: larger ones are fetched one by one."""
    digests = validate_digests(body.digests)
    store = blob_store_of(request)
    sizes: dict[str, int] = {}
    for digest in dict.fromkeys(digests):
        try:
            sizes[digest] = store.size(digest)
        except NotFoundError:
            sizes[digest] = 0  # answered in its frame
        if sizes[digest] > BATCH_MAX_BLOB_BYTES:
            raise PayloadTooLargeError(
                f"blob {digest} has {sizes[digest]:,} bytes: fetch blobs over "
                f"{BATCH_MAX_BLOB_BYTES // 2**20} MiB one by one with GET"
            )
    total = sum(sizes[digest] for digest in digests)  # a digest asked twice is sent twice
    if total > BATCH_MAX_BYTES:
        raise PayloadTooLargeError(
            f"the blobs asked for hold {total:,} bytes; at most "
            f"{BATCH_MAX_BYTES // 2**20} MiB per request"
        )
    return StreamingResponse(_pieces(store, digests), media_type=BATCH_MEDIA_TYPE)


def _pieces(store: BlobStore, digests: list[str]) -> Iterator[bytes]:
    piece: list[bytes] = []
    size = 0
    for frame in _frames(store, digests):
        piece.append(frame)
        size += len(frame)
        if size >= _PIECE_BYTES:
            yield b"".join(piece)
            piece, size = [], 0
    if piece:
        yield b"".join(piece)


def _frames(store: BlobStore, digests: list[str]) -> Iterator[bytes]:
    for digest in digests:
        try:
            data = b"".join(store.open(digest))  # the hash is checked on the way
        except ShipyardError as exc:
            yield _header({"digest": digest, "error": exc.to_payload()["error"]})
            continue
        yield _header({"digest": digest, "size": len(data)}) + data


def _header(fields: dict[str, object]) -> bytes:
    return json.dumps(fields).encode() + b"\n"
