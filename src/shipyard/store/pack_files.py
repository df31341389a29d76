"""One pack file: blobs one after another, then its own table of contents.

Layout::

    blob bytes ... | table (JSON: [[digest, offset, size], ...]) | table length (8 bytes) | MAGIC

The table makes a pack self-describing: an index that was lost or restored
without its latest commits is rebuilt from the packs instead of their blobs
being taken for garbage. A pack without a valid table is one whose writer
died before finishing it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import struct
from collections.abc import Iterable

import blake3

from shipyard.errors import DataCorruptionError
from shipyard.store.hashing import is_digest

__all__ = ["PackSlice", "read_table", "write_pack"]

MAGIC = b"SYPACK01"
_LENGTH = struct.Struct("<Q")
_TRAILER = _LENGTH.size + len(MAGIC)
_WRITE_BUFFER = 4 * 1024 * 1024
_MAX_TABLE_BYTES = 256 * 1024 * 1024

Entry = tuple[str, int, int]  # digest, offset, size


def write_pack(path: str, blobs: Iterable[tuple[str, bytes]]) -> list[Entry]:
    """Write ``(digest, bytes)`` pairs, each verified, and the table to a new file at ``path``.

    The file is flushed to disk and made read-only before this returns. A blob
    that does not hash to its digest raises :class:`DataCorruptionError` naming
    the digest, and the file is removed.
    """
    table: list[Entry] = []
    try:
        with open(path, "xb", buffering=_WRITE_BUFFER) as out:
            offset = 0
            for digest, data in blobs:
                actual = blake3.blake3(data, max_threads=1).hexdigest()
                if actual != digest:
                    raise DataCorruptionError(
                        f"content hashes to {actual}, not the expected {digest}"
                    )
                out.write(data)
                table.append((digest, offset, len(data)))
                offset += len(data)
            encoded = json.dumps(table, separators=(",", ":")).encode()
            out.write(encoded + _LENGTH.pack(len(encoded)) + MAGIC)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(path, 0o444)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        raise
    return table


def read_table(path: str) -> list[Entry] | None:
    """The pack's table of contents, or None when it has none that holds together."""
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size < _TRAILER:
                return None
            handle.seek(size - _TRAILER)
            trailer = handle.read(_TRAILER)
            if trailer[_LENGTH.size :] != MAGIC:
                return None
            (length,) = _LENGTH.unpack(trailer[: _LENGTH.size])
            start = size - _TRAILER - length
            if length > _MAX_TABLE_BYTES or start < 0:
                return None
            handle.seek(start)
            table = json.loads(handle.read(length))
    except (OSError, ValueError):
        return None
    return _checked(table, start)


def _checked(table: object, end: int) -> list[Entry] | None:
    if not isinstance(table, list):
        return None
    entries: list[Entry] = []
    for item in table:
        if not (isinstance(item, list) and len(item) == 3 and is_digest(item[0])):
            return None
        digest, offset, size = item
        if not (isinstance(offset, int) and isinstance(size, int)):
            return None
        if offset < 0 or size < 0 or offset + size > end:
            return None
        entries.append((digest, offset, size))
    return entries


class PackSlice(io.RawIOBase):
    """One packed blob as a read-only, seekable file (owns its handle on the pack)."""

    def __init__(self, path: str, offset: int, size: int) -> None:
        super().__init__()
        self._fd = -1
        self._fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        self._start = offset
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        count = min(len(buffer), self._size - self._pos)
        if count <= 0:
            return 0
        data = os.pread(self._fd, count, self._start + self._pos)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        bases = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._size}
        if whence not in bases:
            raise ValueError(f"invalid whence {whence}")
        self._pos = max(0, bases[whence] + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        if not self.closed and self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        super().close()
