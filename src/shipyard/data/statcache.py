"""A local cache of file digests keyed by path and stat, so unchanged files are not re-hashed.

One SQLite file per user: ``$SHIPYARD_CACHE_DIR/stat-cache.sqlite``; without that
variable ``$SHIPYARD_HOME/cache`` when SHIPYARD_HOME is set, else
``$XDG_CACHE_HOME/shipyard`` (``~/.cache/shipyard``). A row holds a file's
absolute path, size, mtime and ctime in nanoseconds, inode and BLAKE3 digest;
a file whose stat matches its row in all of these is taken as unchanged.

Like git's index, a file modified within :data:`RACY_WINDOW_NS` of being
cached is not cached: a write in the same timestamp tick would otherwise leave
its stat unchanged. The cache is an optimisation only: any error reading or
writing it is logged and the files are simply hashed.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from shipyard.store.sqlite_wal import enable_wal

__all__ = ["RACY_WINDOW_NS", "CachedStat", "StatCache", "default_cache_dir"]

log = logging.getLogger(__name__)

CACHE_FILE = "stat-cache.sqlite"
RACY_WINDOW_NS = 2_000_000_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS hashes (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    digest TEXT NOT NULL
) WITHOUT ROWID
"""


class CachedStat(NamedTuple):
    """What identifies one version of a file's content, and that content's digest."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    digest: str

    @classmethod
    def of(cls, st: os.stat_result, digest: str) -> CachedStat:
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, digest)

    def matches(self, st: os.stat_result) -> bool:
        return (
            self.size == st.st_size
            and self.mtime_ns == st.st_mtime_ns
            and self.ctime_ns == st.st_ctime_ns
            and self.inode == st.st_ino
        )


def default_cache_dir() -> Path:
    explicit = os.environ.get("SHIPYARD_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    home = os.environ.get("SHIPYARD_HOME")
    if home:
        return Path(home).expanduser() / "cache"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "shipyard"


def _prefix_bounds(folder: str) -> tuple[str, str]:
    """Every path strictly below ``folder`` sorts in [folder + "/", folder + "0")."""
    base = folder.rstrip(os.sep)
    return base + os.sep, base + chr(ord(os.sep) + 1)


class StatCache:
    """Digests by path; ``path=None`` uses :func:`default_cache_dir`."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_cache_dir() / CACHE_FILE
        self._conn: sqlite3.Connection | None = None
        self._broken = False

    def _connect(self) -> sqlite3.Connection | None:
        if self._conn is None and not self._broken:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
                enable_wal(conn, 10.0)
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(_SCHEMA)
                self._conn = conn
            except (OSError, sqlite3.Error) as exc:
                self._give_up(exc)
        return self._conn

    def _give_up(self, exc: BaseException) -> None:
        log.warning("stat cache %s is not usable, hashing every file: %s", self.path, exc)
        self._broken = True
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> StatCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def load(self, root: str) -> dict[str, CachedStat]:
        """Every row for the file ``root`` or for the files below the folder ``root``."""
        conn = self._connect()
        if conn is None:
            return {}
        low, high = _prefix_bounds(root)
        try:
            rows = conn.execute(
                "SELECT path, size, mtime_ns, ctime_ns, inode, digest FROM hashes "
                "WHERE path = ? OR (path >= ? AND path < ?)",
                (root, low, high),
            ).fetchall()
        except sqlite3.Error as exc:
            self._give_up(exc)
            return {}
        return {row[0]: CachedStat(*row[1:]) for row in rows}

    def save(self, rows: Iterable[tuple[str, CachedStat]], forget: Iterable[str] = ()) -> int:
        """Store rows (except racily recent files) and drop ``forget``; returns rows stored."""
        conn = self._connect()
        if conn is None:
            return 0
        limit = time.time_ns() - RACY_WINDOW_NS
        fresh = [(path, *stat) for path, stat in rows if stat.mtime_ns < limit]
        stale = [(path,) for path in forget]
        try:
            with conn:
                conn.execute("BEGIN IMMEDIATE")
                if stale:
                    conn.executemany("DELETE FROM hashes WHERE path = ?", stale)
                conn.executemany(
                    "INSERT OR REPLACE INTO hashes (path, size, mtime_ns, ctime_ns, inode, digest) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    fresh,
                )
        except sqlite3.Error as exc:
            self._give_up(exc)
            return 0
        return len(fresh)
