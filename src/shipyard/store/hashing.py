"""Streaming BLAKE3 hashing: the content address of every blob.

A digest is the 64-character lowercase hex BLAKE3 hash of the bytes. Everything
here reads in :data:`CHUNK_SIZE` pieces, so no whole file is ever held in memory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import BinaryIO, Protocol

import blake3

from shipyard.errors import InvalidInputError

__all__ = [
    "CHUNK_SIZE",
    "DIGEST_LENGTH",
    "Hasher",
    "copy_hashing",
    "hash_bytes",
    "hash_file",
    "hash_stream",
    "is_digest",
    "new_hasher",
    "validate_digest",
    "validate_digests",
]

CHUNK_SIZE = 1024 * 1024
DIGEST_LENGTH = 64
# From this size a file is memory-mapped rather than read in chunks.
_MMAP_THRESHOLD = 16 * 1024 * 1024
_DIGEST_RE = re.compile(r"[0-9a-f]{64}")

Hasher = blake3.blake3


class _Sink(Protocol):
    def write(self, data: bytes, /) -> object: ...


def new_hasher(multithreaded: bool = True) -> Hasher:
    """A fresh incremental hasher.

    Multithreaded, blake3 spreads each large ``update`` (a 1 MiB chunk) over the
    cores, about doubling throughput on two; small updates stay on one thread
    at no measurable cost.
    """
    return blake3.blake3(max_threads=blake3.blake3.AUTO if multithreaded else 1)


def is_digest(value: object) -> bool:
    return isinstance(value, str) and _DIGEST_RE.fullmatch(value) is not None


def validate_digest(value: object, what: str = "digest") -> str:
    """Return ``value`` if it is 64 lowercase hex characters, else raise ``InvalidInputError``."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} must be a string, got {type(value).__name__}")
    if not _DIGEST_RE.fullmatch(value):
        shown = value if len(value) <= 80 else value[:77] + "..."
        raise InvalidInputError(
            f"{what} {shown!r} is not a BLAKE3 digest (64 lowercase hex characters)"
        )
    return value


def validate_digests(values: Iterable[object], what: str = "digest") -> list[str]:
    return [validate_digest(value, what) for value in values]


def hash_bytes(data: bytes) -> str:
    hasher = new_hasher()
    hasher.update(data)
    return hasher.hexdigest()


def copy_hashing(
    source: BinaryIO, sink: _Sink | None = None, chunk_size: int = CHUNK_SIZE
) -> tuple[str, int]:
    """Read ``source`` to its end, writing each chunk to ``sink``; return (digest, size)."""
    hasher = new_hasher()
    size = 0
    while True:
        chunk = source.read(chunk_size)
        if not chunk:
            break
        hasher.update(chunk)
        size += len(chunk)
        if sink is not None:
            sink.write(chunk)
    return hasher.hexdigest(), size


def hash_stream(source: BinaryIO, chunk_size: int = CHUNK_SIZE) -> tuple[str, int]:
    """(digest, size) of everything left to read in ``source``."""
    return copy_hashing(source, None, chunk_size)


def hash_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    """(digest, size) of a file; large files are memory-mapped and hashed on all cores."""
    size = os.path.getsize(path)
    if size >= _MMAP_THRESHOLD:
        hasher = new_hasher()
        # update_mmap lets the OS page the file in; nothing is copied into Python.
        hasher.update_mmap(os.fspath(path))
        return hasher.hexdigest(), size
    with open(path, "rb") as handle:
        return hash_stream(handle)
