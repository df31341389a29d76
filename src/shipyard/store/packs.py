"""Pack files: many small blobs of a local folder store in a few large files.

Creating a file per blob is what makes adding 100k small files slow (an inode,
a directory entry and a rename each). A bulk upload of small blobs instead
appends them to a new pack file, as git and restic do::

    <root>/packs/<uuid>.pack     the blobs' bytes, one after another
    <root>/packs/index.sqlite    digest -> (pack, offset, size, added)

A pack is written whole, checked against the digests its blobs were expected
to have, flushed to disk, made read-only, and only then indexed (one
transaction): a crash leaves at most a pack nothing refers to, which ``gc``
removes. Writers never share a pack, so concurrent adds need no lock beyond
the index's own. Bytes are verified on every read, as for loose blobs.

Deleting a packed blob removes its index row; its bytes stay until
:func:`compact` rewrites the pack without them (``shipyard gc`` does both).
The index is a SQLite file: keep the store on a local filesystem, not NFS.
"""

from __future__ import annotations

import contextlib
import io
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import blake3

from shipyard.errors import DataCorruptionError
from shipyard.store.localfiles import read_file
from shipyard.store.sqlite_wal import enable_wal

__all__ = [
    "MAX_PACKED_BLOB",
    "MIN_PACKED_BLOBS",
    "PACK_TARGET_BYTES",
    "CompactResult",
    "PackIndex",
    "PackSlice",
    "PackedBlob",
    "PackedSource",
]

PACKS_FOLDER = "packs"
INDEX_FILE = "index.sqlite"
PACK_SUFFIX = ".pack"
# Blobs up to this size are packed by bulk uploads; larger ones stay loose files,
# which checkouts can reflink or hard-link.
MAX_PACKED_BLOB = 1024 * 1024
# Fewer small blobs than this are stored loose: a pack per handful of files
# would only make more files.
MIN_PACKED_BLOBS = 64
PACK_TARGET_BYTES = 128 * 1024 * 1024
# A pack whose live bytes fall below this share of its size is rewritten by compact().
COMPACT_BELOW_SHARE = 0.5
# Digests per lookup query (SQLite takes up to 32,766 parameters).
_LOOKUP_CHUNK = 5_000
_SETUP_TIMEOUT_S = 60.0
_WRITE_BUFFER = 4 * 1024 * 1024
_SCHEMA = """
CREATE TABLE IF NOT EXISTS packed (
    digest TEXT PRIMARY KEY,
    pack TEXT NOT NULL,
    offset INTEGER NOT NULL,
    size INTEGER NOT NULL,
    added REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS packed_by_pack ON packed (pack);
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


@dataclass(slots=True)
class CompactResult:
    removed_packs: int = 0
    rewritten_packs: int = 0
    freed_bytes: int = 0


class PackIndex:
    """The packs of one store folder and the index of what they hold (thread-safe)."""

    def __init__(self, root: str) -> None:
        self.folder = os.path.join(root, PACKS_FOLDER)
        self._index_path = os.path.join(self.folder, INDEX_FILE)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        """The index connection; None while no pack was ever written (and not ``create``)."""
        if self._conn is not None:
            return self._conn
        if not create and not os.path.exists(self._index_path):
            return None
        os.makedirs(self.folder, exist_ok=True)
        conn = sqlite3.connect(
            self._index_path, timeout=60.0, isolation_level=None, check_same_thread=False
        )
        try:
            _set_up(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def pack_path(self, pack: str) -> str:
        return os.path.join(self.folder, pack + PACK_SUFFIX)

    # -- lookups ------------------------------------------------------------------------
    def locate(self, digest: str) -> PackedBlob | None:
        with self._lock:
            conn = self._connect(create=False)
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
        with self._lock:
            conn = self._connect(create=False)
            if conn is None:
                return found
            for at in range(0, len(digests), _LOOKUP_CHUNK):
                chunk = digests[at : at + _LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    "SELECT digest, pack, offset, size, added FROM packed "
                    f"WHERE digest IN ({marks})",
                    chunk,
                ).fetchall()
                for digest, pack, offset, size, added in rows:
                    path = paths.get(pack) or paths.setdefault(pack, self.pack_path(pack))
                    found[digest] = PackedBlob(digest, path, offset, size, added)
        return found

    def iter_packed(self) -> Iterator[PackedBlob]:
        with self._lock:
            conn = self._connect(create=False)
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
        """Drop a blob from the index; its bytes go with the next :meth:`compact`."""
        with self._lock:
            conn = self._connect(create=False)
            if conn is None:
                return False
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
        os.makedirs(self.folder, exist_ok=True)
        pack = uuid.uuid4().hex
        path = self.pack_path(pack)
        rows: list[tuple[str, str, int, int, float]] = []
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
                    rows.append((digest, pack, offset, len(data), 0.0))
                    offset += len(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(path, 0o444)
            added = time.time()
            with self._lock:
                conn = self._connect(create=True)
                assert conn is not None
                with conn:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.executemany(
                        "INSERT OR IGNORE INTO packed (digest, pack, offset, size, added) "
                        "VALUES (?, ?, ?, ?, ?)",
                        [(d, p, o, s, added) for d, p, o, s, _ in rows],
                    )
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            raise
        return len(rows)

    # -- maintenance --------------------------------------------------------------------
    def compact(self, grace_seconds: float) -> CompactResult:
        """Remove packs nothing is indexed in, rewrite those mostly deleted.

        Packs younger than ``grace_seconds`` are left alone: their writer may
        not have indexed them yet.
        """
        result = CompactResult()
        try:
            names = [n for n in os.listdir(self.folder) if n.endswith(PACK_SUFFIX)]
        except FileNotFoundError:
            return result
        cutoff = time.time() - grace_seconds
        live = self._live_bytes()
        for name in sorted(names):
            pack = name[: -len(PACK_SUFFIX)]
            path = self.pack_path(pack)
            try:
                st = os.stat(path)
            except FileNotFoundError:
                continue
            if st.st_mtime > cutoff:
                continue
            kept = live.get(pack, 0)
            if kept == 0:
                os.unlink(path)
                result.removed_packs += 1
                result.freed_bytes += st.st_size
            elif kept < st.st_size * COMPACT_BELOW_SHARE:
                self._rewrite(pack)
                result.rewritten_packs += 1
                result.freed_bytes += st.st_size - kept
        return result

    def _live_bytes(self) -> dict[str, int]:
        with self._lock:
            conn = self._connect(create=False)
            if conn is None:
                return {}
            rows = conn.execute("SELECT pack, SUM(size) FROM packed GROUP BY pack").fetchall()
        return {pack: int(total) for pack, total in rows}

    def _rewrite(self, pack: str) -> None:
        """Copy a pack's live blobs (verified) into a new pack, re-point them, drop the old."""
        old_path = self.pack_path(pack)
        with self._lock:
            conn = self._connect(create=False)
            assert conn is not None
            rows = conn.execute(
                "SELECT digest, offset, size FROM packed WHERE pack = ? ORDER BY offset", (pack,)
            ).fetchall()
        new_pack = uuid.uuid4().hex
        new_path = self.pack_path(new_pack)
        moved: list[tuple[str, int, str]] = []
        try:
            with open(old_path, "rb") as source, open(new_path, "xb") as out:
                offset = 0
                for digest, old_offset, size in rows:
                    data = os.pread(source.fileno(), size, old_offset)
                    if len(data) != size or blake3.blake3(data).hexdigest() != digest:
                        continue  # corrupt: leave it to be reported where it is
                    out.write(data)
                    moved.append((new_pack, offset, digest))
                    offset += size
                out.flush()
                os.fsync(out.fileno())
            os.chmod(new_path, 0o444)
            with self._lock:
                conn = self._connect(create=False)
                assert conn is not None
                with conn:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.executemany(
                        "UPDATE packed SET pack = ?, offset = ? WHERE digest = ? AND pack = ?",
                        [(p, o, d, pack) for p, o, d in moved],
                    )
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(new_path)
            raise
        if len(moved) == len(rows):
            os.unlink(old_path)


def _set_up(conn: sqlite3.Connection) -> None:
    enable_wal(conn, _SETUP_TIMEOUT_S)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(_SCHEMA)


class PackSlice(io.RawIOBase):
    """One packed blob as a read-only, seekable file (owns its handle on the pack)."""

    def __init__(self, path: str, offset: int, size: int) -> None:
        super().__init__()
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
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()
