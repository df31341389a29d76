"""HTTP ``Range`` headers (RFC 9110, section 14) for one byte range.

Served: ``bytes=a-b``, ``bytes=a-`` and ``bytes=-n``. A header this module does
not serve — another unit, a malformed value, or several ranges at once — is
ignored, as RFC 9110 allows, and the whole content is sent with 200. A single
range that lies wholly past the end raises :class:`RangeNotSatisfiable` (416).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ByteRange", "RangeNotSatisfiable", "parse_range"]

# 19 digits bound the numbers to 64 bits and keep int() cheap on hostile input.
_SPEC_RE = re.compile(r"\s*(\d{0,19})\s*-\s*(\d{0,19})\s*")


class RangeNotSatisfiable(Exception):
    """The requested range does not overlap content of ``size`` bytes."""

    def __init__(self, size: int) -> None:
        super().__init__(f"the requested range is outside the content of {size} bytes")
        self.size = size

    @property
    def content_range(self) -> str:
        return f"bytes */{self.size}"


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Bytes ``start`` to ``end`` inclusive of content ``size`` bytes long."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    @property
    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end}/{self.size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range ``header`` asks for, or None to send everything."""
    if header is None:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    match = _SPEC_RE.fullmatch(spec)
    if match is None:
        return None
    first, last = match.groups()
    if first:
        start = int(first)
        if last and int(last) < start:
            return None  # syntactically invalid: ignored, not unsatisfiable
        if start >= size:
            raise RangeNotSatisfiable(size)
        end = min(int(last), size - 1) if last else size - 1
        return ByteRange(start, end, size)
    if not last:
        return None
    suffix = int(last)
    if suffix == 0 or size == 0:
        raise RangeNotSatisfiable(size)
    return ByteRange(max(0, size - suffix), size - 1, size)
