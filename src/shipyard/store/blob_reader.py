"""Reading one stored blob in chunks, checking its hash on the way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from shipyard.errors import DataCorruptionError, InvalidInputError
from shipyard.store.hashing import CHUNK_SIZE, Hasher, new_hasher

__all__ = ["BlobReader"]


class BlobReader(Iterator[bytes]):
    """The chunks of one blob from ``offset`` to its end.

    Read from offset 0, the bytes are hashed as they pass and the final chunk is
    handed out only after the hash matched the digest; a mismatch raises
    :class:`DataCorruptionError` instead. A consumer therefore must not trust (or
    commit) any bytes before the iteration has ended without an error. Read from
    a later offset nothing is verified: the whole is needed to check a hash.

    The reader owns ``handle`` and closes it at the end, on error, or on ``close()``.
    """

    def __init__(
        self,
        handle: BinaryIO,
        digest: str,
        size: int,
        offset: int = 0,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self.digest = digest
        self.size = size
        self.offset = offset
        self._handle: BinaryIO | None = handle
        self._chunk_size = chunk_size
        self._hasher: Hasher | None = None
        self._pending: bytes | None = None
        try:
            if offset < 0 or offset > size:
                raise InvalidInputError(f"offset {offset} is outside blob {digest} of {size} bytes")
            if offset:
                handle.seek(offset)
            else:
                self._hasher = new_hasher()
        except BaseException:
            self.close()
            raise

    def __iter__(self) -> BlobReader:
        return self

    def __next__(self) -> bytes:
        handle = self._handle
        if handle is None:
            raise StopIteration
        try:
            if self._hasher is None:
                chunk = handle.read(self._chunk_size)
                if not chunk:
                    raise StopIteration
                return chunk
            return self._next_verified(handle, self._hasher)
        except BaseException:
            self.close()
            raise

    def _next_verified(self, handle: BinaryIO, hasher: Hasher) -> bytes:
        # One chunk is held back so that the last one is released only once
        # the end was reached and the hash checked.
        while True:
            chunk = handle.read(self._chunk_size)
            if chunk:
                hasher.update(chunk)
            if not chunk:
                actual = hasher.hexdigest()
                if actual != self.digest:
                    raise DataCorruptionError(
                        f"blob {self.digest} is corrupt: its content hashes to {actual}"
                    )
                pending, self._pending = self._pending, None
                self.close()
                if pending is None:
                    raise StopIteration
                return pending
            if self._pending is None:
                self._pending = chunk
                continue
            out, self._pending = self._pending, chunk
            return out

    def close(self) -> None:
        handle, self._handle = self._handle, None
        self._pending = None
        if handle is not None:
            handle.close()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
