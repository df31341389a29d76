"""Which logged predictions a report looks at: a trailing window, the last N rows, or
an explicit time range.

Durations are written ``90s``, ``30m``, ``24h``, ``7d``, ``2w`` (or ``500ms``).
Points in time (``--since`` / ``--until``) are milliseconds since the epoch (any
string of digits), an ISO 8601 date or time (``2024-06-01``,
``2024-06-01T12:00:00+02:00``; without a zone, local time), or a duration meaning
that long ago (``2h``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from shipyard.entities import now_ms
from shipyard.errors import InvalidInputError

__all__ = [
    "DEFAULT_WINDOW_SECONDS",
    "Window",
    "format_duration",
    "parse_duration",
    "parse_time",
]

DEFAULT_WINDOW_SECONDS = 24 * 3600
_DURATION_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_MAX_MS = 100 * 366 * 86_400_000  # a century: beyond that a duration is a typo


def parse_duration(text: str | int | float) -> int:
    """Milliseconds of ``24h`` / ``30m`` / ``90s`` / ``7d`` / ``2w`` / ``500ms``; a bare number
    counts seconds."""
    if isinstance(text, bool):
        raise InvalidInputError(f"a duration must be like 24h, 30m or 90s, got {text!r}")
    if isinstance(text, int | float):
        ms = round(float(text) * 1000)
    else:
        match = _DURATION_RE.fullmatch(text)
        if match is None:
            if re.fullmatch(r"\s*\d+(\.\d+)?\s*", text):
                ms = round(float(text) * 1000)
            else:
                raise InvalidInputError(
                    f"a duration must be like 24h, 30m, 90s, 7d or 2w, got {text!r}"
                )
        else:
            ms = round(float(match.group(1)) * _UNIT_MS[match.group(2)])
    if not 0 < ms <= _MAX_MS:
        raise InvalidInputError(f"a duration must be positive and under a century, got {text!r}")
    return ms


def format_duration(ms: int) -> str:
    """The shortest exact spelling of a duration: ``86400000`` -> ``24h``... ``1d``."""
    for unit in ("w", "d", "h", "m", "s"):
        size = _UNIT_MS[unit]
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def parse_time(text: str | int, now: int | None = None) -> int:
    """Milliseconds since the epoch of ``text``: a number of ms, an ISO 8601 date or time,
    or a duration meaning that long before ``now``."""
    if isinstance(text, bool):
        raise InvalidInputError(f"not a point in time: {text!r}")
    if isinstance(text, int):
        if text < 0:
            raise InvalidInputError(f"a time must not be negative, got {text}")
        return text
    stripped = text.strip()
    # All digits are milliseconds, never an ISO basic date such as 20240601.
    if stripped.isascii() and stripped.isdigit():
        return int(stripped)
    if _DURATION_RE.fullmatch(stripped):
        return (now_ms() if now is None else now) - parse_duration(stripped)
    try:
        parsed = dt.datetime.fromisoformat(stripped)
    except ValueError:
        raise InvalidInputError(
            f"not a point in time: {text!r} (use ms since the epoch, an ISO 8601 date or time "
            "like 2024-06-01T12:00, or a duration ago like 2h)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()  # local time, as a person typing it means
    return int(parsed.timestamp() * 1000)


def _positive_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(f"{what} must be a positive integer, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class Window:
    """Which logged predictions to read.

    One of: ``seconds`` (the trailing window ending now), ``last_n`` (the newest
    rows, optionally bounded by ``since_ms`` / ``until_ms``), or ``since_ms`` /
    ``until_ms`` alone (an explicit range; an open end is unbounded).
    """

    seconds: int | None = None
    last_n: int | None = None
    since_ms: int | None = None
    until_ms: int | None = None

    def __post_init__(self) -> None:
        if self.seconds is not None:
            _positive_int(self.seconds, "the window in seconds")
            if self.last_n is not None or self.since_ms is not None or self.until_ms is not None:
                raise InvalidInputError("give a window, --last or --since/--until, not several")
        if self.last_n is not None:
            _positive_int(self.last_n, "--last")
        for value in (self.since_ms, self.until_ms):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise InvalidInputError(f"a time must be integer ms, got {value!r}")
        if (
            self.since_ms is not None
            and self.until_ms is not None
            and self.since_ms > self.until_ms
        ):
            raise InvalidInputError("--since is after --until")

    @classmethod
    def parse(
        cls,
        window: str | int | None = None,
        last: int | None = None,
        since: str | int | None = None,
        until: str | int | None = None,
        *,
        default_seconds: int = DEFAULT_WINDOW_SECONDS,
    ) -> Window:
        """From what a user typed; nothing at all means the trailing ``default_seconds``."""
        now = now_ms()
        since_ms = None if since is None else parse_time(since, now)
        until_ms = None if until is None else parse_time(until, now)
        if window is not None:
            if last is not None or since_ms is not None or until_ms is not None:
                raise InvalidInputError("give --window, --last or --since/--until, not several")
            return cls(seconds=max(1, parse_duration(window) // 1000))
        if last is None and since_ms is None and until_ms is None:
            return cls(seconds=default_seconds)
        return cls(last_n=last, since_ms=since_ms, until_ms=until_ms)

    def bounds(self, now: int | None = None) -> tuple[int | None, int | None]:
        """(since_ms, until_ms) to read, resolved against ``now`` for a trailing window."""
        if self.seconds is not None:
            end = now_ms() if now is None else now
            return end - self.seconds * 1000, end
        return self.since_ms, self.until_ms

    def describe(self) -> str:
        if self.seconds is not None:
            return f"last {format_duration(self.seconds * 1000)}"
        parts = []
        if self.last_n is not None:
            parts.append(f"last {self.last_n:,} rows")
        if self.since_ms is not None:
            parts.append(f"since {_iso(self.since_ms)}")
        if self.until_ms is not None:
            parts.append(f"until {_iso(self.until_ms)}")
        return ", ".join(parts) or "all rows"

    def to_dict(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "last_n": self.last_n,
            "since_ms": self.since_ms,
            "until_ms": self.until_ms,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Window:
        return cls(
            seconds=data.get("seconds"),
            last_n=data.get("last_n"),
            since_ms=data.get("since_ms"),
            until_ms=data.get("until_ms"),
        )


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000).astimezone().isoformat(timespec="seconds")
