"""The framing of a blob batch download (``POST /api/v1/blobs/fetch``), client side."""

from __future__ import annotations

import json
from collections.abc import Iterator

from shipyard.errors import (
    DataCorruptionError,
    ServiceUnavailableError,
    ShipyardError,
    error_from_payload,
)
from shipyard.store.batching import batched
from shipyard.store.hashing import hash_bytes, validate_digests

__all__ = [
    "FETCH_MAX_BYTES",
    "FETCH_MAX_FILES",
    "FRAME_HEADER_ROOM",
    "fetch_requests",
    "parse_frames",
]

# Downloads of small blobs: per request (the server answers up to 64 MiB).
FETCH_MAX_FILES = 2_000
FETCH_MAX_BYTES = 16 * 1024 * 1024
# Room for one frame's header line in an answer (a digest, a size or an error).
FRAME_HEADER_ROOM = 4096


def fetch_requests(sizes: dict[str, int]) -> Iterator[list[str]]:
    """Digests grouped into requests of at most FETCH_MAX_FILES and FETCH_MAX_BYTES."""
    return batched(validate_digests(sizes), sizes.__getitem__, FETCH_MAX_FILES, FETCH_MAX_BYTES)


def parse_frames(body: bytes, sizes: dict[str, int]) -> dict[str, bytes | ShipyardError]:
    """The frames of a fetch answer, each blob verified against its digest and size.

    A frame that does not hold together makes the whole answer unusable
    (``ServiceUnavailableError``); a blob that is absent, corrupt or other than
    asked for maps to its error.
    """
    found: dict[str, bytes | ShipyardError] = {}
    at = 0
    while at < len(body):
        end = body.find(b"\n", at, at + FRAME_HEADER_ROOM)
        header = _frame_header(body[at:end] if end >= 0 else None)
        digest = header.get("digest")
        if not isinstance(digest, str) or digest not in sizes:
            raise _broken_batch(f"a blob not asked for: {str(digest)[:80]!r}")
        at = end + 1
        if "error" in header:
            found[digest] = error_from_payload(header, 500)
            continue
        size = header.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= len(body) - at:
            raise _broken_batch(f"blob {digest} announced with the size {size!r}")
        data = body[at : at + size]
        at += size
        actual = hash_bytes(data)
        found[digest] = (
            data
            if actual == digest and size == sizes[digest]
            else DataCorruptionError(
                f"blob {digest} arrived as other bytes ({size} bytes hashing to {actual})"
            )
        )
    return found


def _frame_header(line: bytes | None) -> dict[str, object]:
    if line is None:
        raise _broken_batch("a header line is missing its end")
    try:
        header = json.loads(line)
    except ValueError:
        raise _broken_batch("a header is not JSON") from None
    if not isinstance(header, dict):
        raise _broken_batch("a header is not an object")
    return header


def _broken_batch(what: str) -> ServiceUnavailableError:
    return ServiceUnavailableError(f"the server's blob batch is broken: {what}")
