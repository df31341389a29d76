"""Switching a SQLite connection to WAL mode while other processes open the same file."""

from __future__ import annotations

import sqlite3
import time
from typing import Protocol

__all__ = ["enable_wal"]

_RETRY_S = 0.01


class _Executes(Protocol):
    def execute(self, sql: str, /) -> object: ...


def enable_wal(conn: _Executes, timeout_s: float) -> None:
    """``PRAGMA journal_mode=WAL``, retried for up to ``timeout_s`` while the file is locked.

    Changing the journal mode needs an exclusive lock that SQLite's busy
    timeout does not wait for: processes opening a fresh file at once would
    otherwise fail with "database is locked".
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(_RETRY_S)
