"""Pack files: many small blobs of a local folder store in a few large files.

Creating a file per blob is what makes adding 100k small files slow (an inode,
a directory entry and a rename each). A bulk upload of small blobs instead
appends them to a new pack file, as git and restic do::

    <root>/packs/<uuid>.pack     the blobs' bytes, then the pack's own table (pack_files)
    <root>/packs/index.sqlite    digest -> (pack, offset, size, added); the packs indexed

A pack is written under ``tmp/``, checked against the digests its blobs were
expected to have, flushed to disk, made read-only, moved into ``packs/``, and
only then indexed (one durable transaction): a crash leaves at most a pack
nothing refers to, which ``gc`` indexes again from its table or removes.
Writers never share a pack, so concurrent adds need no lock beyond the
index's own. Bytes are verified on every read, as for loose blobs.

Deleting a packed blob removes its index row; its bytes stay until
:mod:`~shipyard.store.pack_compaction` rewrites the pack without them
(``shipyard gc`` does both). The index is a SQLite file: keep the store on a
local filesystem, not NFS.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from shipyard.errors import ServiceUnavailableError
from shipyard.store.localfiles import fsync_folder, read_file
from shipyard.store.pack_files import Entry, write_pack
from shipyard.store.sqlite_wal import enable_wal

__all__ = [
    "MAX_PACKED_BLOB",
    "MIN_PACKED_BLOBS",
    "PACK_TARGET_BYTES",
    "PackIndex",
    "PackedBlob",
    "PackedSource",
]

PACKS_FOLDER = "packs"
TMP_FOLDER = "tmp"
INDEX_FILE = "index.sqlite"
PACK_SUFFIX = ".pack"
TMP_PACK_PREFIX = "pack-"
# Blobs up to this size are packed by bulk uploads; larger ones stay loose files,
# which checkouts can reflink or hard-link.
MAX_PACKED_BLOB = 1024 * 1024
# Fewer small blobs than this are stored loose: a pack per handful of files
# would only make more files.
MIN_PACKED_BLOBS = 64
PACK_TARGET_BYTES = 128 * 1024 * 1024
# Digests per lookup query (SQLite takes up to 32,766 parameters).
_LOOKUP_CHUNK = 5_000
_BUSY_TIMEOUT_S = 60.0
_SCHEMA = """
CREATE TABLE IF NOT EXISTS packed (
    digest TEXT PRIMARY KEY,
    pack TEXT NOT NULL,
    offset INTEGER NOT NULL,
    size INTEGER NOT NULL,
    added REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS packed_by_pack ON packed (pack);
CREATE TABLE IF NOT EXISTS packs (
    name TEXT PRIMARY KEY,
    added REAL NOT NULL,
    bytes INTEGER NOT NULL
) WITHOUT ROWID;
"""


class PackedBlob(NamedTuple):
    """Where a packed blob's bytes are: ``path`` from ``offset``, ``size`` bytes."""

    digest: str
    path: str
    offset: int
    size: int
    added: float


class PackedSource(NamedTuple):
    """A file to pack: its digest and size as hashed before, and where it is."""

    digest: str
    path: str
    size: int


class PackIndex:
    """The packs of one store folder and the index of what they hold (thread-safe).

    Reads and writes use separate connections, so that a writer waiting for
    another process's transaction does not hold up this process's readers.
    """

    def __init__(self, root: str) -> None:
        self.folder = os.path.join(root, PACKS_FOLDER)
        self.tmp = os.path.join(root, TMP_FOLDER)
        self.index_path = os.path.join(self.folder, INDEX_FILE)
        self._read: sqlite3.Connection | None = None
        self._write: sqlite3.Connection | None = None
        self._read_lock = threading.Lock()
        self._write_lock = threading.Lock()

    # -- connections --------------------------------------------------------------------
    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection | None]:
        """The read connection, under its lock; None while no pack was ever indexed."""
        with self._read_lock, self._errors():
            if self._read is None and os.path.exists(self.index_path):
                self._read = self._open(writable=False)
            yield self._read

    @contextlib.contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """The write connection, under its lock, in one durable transaction."""
        with self._write_lock, self._errors():
            if self._write is None:
                os.makedirs(self.folder, exist_ok=True)
                self._write = self._open(writable=True)
            with self._write:
                self._write.execute("BEGIN IMMEDIATE")
                yield self._write

    def _open(self, writable: bool) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.index_path,
            timeout=_BUSY_TIMEOUT_S,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            enable_wal(conn, _BUSY_TIMEOUT_S)
            # FULL: a commit that re-points blobs to a new pack must survive a
            # power loss before the old pack is removed.
            conn.execute("PRAGMA synchronous=FULL")
            conn.executescript(_SCHEMA)
        except sqlite3.OperationalError as exc:
            conn.close()
            if writable or not _read_only(exc):
                raise
            # A store on a read-only mount: read what is there (immutable: without
            # its shared-memory file a WAL database cannot be opened otherwise).
            uri = f"file:{self.index_path}?mode=ro&immutable=1"
            conn = sqlite3.connect(uri, uri=True, timeout=_BUSY_TIMEOUT_S, check_same_thread=False)
        return conn

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise ServiceUnavailableError(
                f"the pack index {self.index_path} cannot be used: {exc}"
            ) from exc

    def close(self) -> None:
        for lock, name in ((self._read_lock, "_read"), (self._write_lock, "_write")):
            with lock:
                conn = getattr(self, name)
                if conn is not None:
                    conn.close()
                    setattr(self, name, None)

    def pack_path(self, pack: str) -> str:
        return os.path.join(self.folder, pack + PACK_SUFFIX)

    # -- lookups ------------------------------------------------------------------------
    def locate(self, digest: str) -> PackedBlob | None:
        with self.reading() as conn:
            if conn is None:
                return None
            row = conn.execute(
                "SELECT pack, offset, size, added FROM packed WHERE digest = ?", (digest,)
            ).fetchone()
        if row is None:
            return None
        return PackedBlob(digest, self.pack_path(row[0]), row[1], row[2], row[3])

    def locate_many(self, digests: Sequence[str]) -> dict[str, PackedBlob]:
        found: dict[str, PackedBlob] = {}
        paths: dict[str, str] = {}  # pack -> its file: a few packs hold many blobs
        with self.reading() as conn:
            if conn is None:
                return found
            columns = "digest, pack, offset, size, added"
            for digest, pack, offset, size, added in _rows_for(conn, columns, digests):
                path = paths.get(pack) or paths.setdefault(pack, self.pack_path(pack))
                found[digest] = PackedBlob(digest, path, offset, size, added)
        return found

    def iter_packed(self) -> Iterator[PackedBlob]:
        with self.reading() as conn:
            rows = (
                []
                if conn is None
                else conn.execute(
                    "SELECT digest, pack, offset, size, added FROM packed ORDER BY digest"
                ).fetchall()
            )
        for digest, pack, offset, size, added in rows:
            yield PackedBlob(digest, self.pack_path(pack), offset, size, added)

    def forget(self, digest: str) -> bool:
        """Drop a blob from the index; its bytes go when its pack is compacted."""
        if not os.path.exists(self.index_path):
            return False
        with self.writing() as conn:
            return conn.execute("DELETE FROM packed WHERE digest = ?", (digest,)).rowcount > 0

    # -- writing ------------------------------------------------------------------------
    def write(self, sources: Iterable[PackedSource]) -> int:
        """Pack the files (each re-hashed while read), then index them; the blobs indexed.

        A file whose bytes no longer hash to its digest raises
        :class:`DataCorruptionError` naming the digest, and nothing is indexed.
        A blob another writer indexed first keeps that writer's copy.
        """
        return self.write_blobs((s.digest, read_file(s.path, s.size)) for s in sources)

    def write_blobs(self, blobs: Iterable[tuple[str, bytes]]) -> int:
        """Pack ``(digest, bytes)`` pairs, each verified, then index them (see :meth:`write`)."""
        _, table = self.publish(blobs, self.index)
        return len(table)

    def publish(
        self, blobs: Iterable[tuple[str, bytes]], record: Callable[[str, list[Entry]], None]
    ) -> tuple[str, list[Entry]]:
        """Write a new pack under ``tmp/``, move it in, then ``record(name, table)`` it.

        Moved in whole, so gc never sees a pack still being written; removed
        again if recording fails, never after.
        """
        pack = uuid.uuid4().hex
        os.makedirs(self.tmp, exist_ok=True)
        staging = os.path.join(self.tmp, f"{TMP_PACK_PREFIX}{pack}{PACK_SUFFIX}")
        table = write_pack(staging, blobs)
        final = self.pack_path(pack)
        recorded = False
        try:
            os.makedirs(self.folder, exist_ok=True)
            os.replace(staging, final)
            fsync_folder(self.folder)
            record(pack, table)
            recorded = True
        finally:
            if not recorded:
                for path in (staging, final):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
        return pack, table

    def index(self, pack: str, table: list[Entry]) -> None:
        """Record a pack in ``packs/`` and its blobs, in one transaction.

        A blob already indexed keeps its place, unless that place's pack file
        is gone: then this copy replaces it (the store repairs itself).
        """
        added = time.time()
        with self.writing() as conn:
            existing = _existing(conn, [digest for digest, _, _ in table])
            lost = {
                digest
                for digest, other in existing.items()
                if not os.path.exists(self.pack_path(other))
            }
            conn.execute(
                "INSERT OR REPLACE INTO packs (name, added, bytes) VALUES (?, ?, ?)",
                (pack, added, sum(size for _, _, size in table)),
            )
            conn.executemany(
                "INSERT OR REPLACE INTO packed (digest, pack, offset, size, added) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (digest, pack, offset, size, added)
                    for digest, offset, size in table
                    if digest not in existing or digest in lost
                ],
            )


def _read_only(exc: sqlite3.OperationalError) -> bool:
    return "readonly" in str(exc) or "unable to open" in str(exc)


def _existing(conn: sqlite3.Connection, digests: list[str]) -> dict[str, str]:
    """digest -> pack of those already indexed."""
    return {digest: pack for digest, pack in _rows_for(conn, "digest, pack", digests)}


def _rows_for(
    conn: sqlite3.Connection, columns: str, digests: Sequence[str]
) -> Iterator[tuple[Any, ...]]:
    """``columns`` of the indexed ones of ``digests``, a few thousand per query."""
    for at in range(0, len(digests), _LOOKUP_CHUNK):
        chunk = digests[at : at + _LOOKUP_CHUNK]
        marks = ",".join("?" * len(chunk))
        yield from conn.execute(
            f"SELECT {columns} FROM packed WHERE digest IN ({marks})", chunk
        ).fetchall()
