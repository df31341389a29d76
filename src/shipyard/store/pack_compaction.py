"""Reclaiming the space of deleted packed blobs, and repairing the pack index.

Run by ``shipyard gc`` after it removed the index rows of dead blobs:

1. Index rows that point at a pack file no longer there are dropped (the
   next add of that content stores it again).
2. A pack file the index does not list is indexed again from its own table
   (an index restored from an older copy loses nothing); one without a valid
   table was left by a writer that died, and is removed once older than the
   grace period, as are such leftovers in ``tmp/``.
3. Listed packs with no live blob are removed, then those less than half
   live are rewritten with their live blobs only (each verified; a corrupt
   one is reported and left where it is). A failure (a full disk) stops one
   rewrite, not the whole pass.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import blake3

from shipyard.store.pack_files import Entry, read_table
from shipyard.store.packs import PACK_SUFFIX, TMP_PACK_PREFIX, PackIndex

__all__ = ["CompactResult", "compact"]

# A pack whose live bytes fall below this share of the bytes it was written with
# is rewritten.
COMPACT_BELOW_SHARE = 0.5


@dataclass(slots=True)
class CompactResult:
    removed_packs: int = 0
    rewritten_packs: int = 0
    reindexed_packs: int = 0
    freed_bytes: int = 0
    dropped_rows: int = 0  # index rows whose pack file was gone
    corrupt: list[str] = field(default_factory=list)  # digests of corrupt packed blobs
    errors: list[str] = field(default_factory=list)  # packs that could not be rewritten


def compact(index: PackIndex, grace_seconds: float) -> CompactResult:
    """Repair the index and reclaim dead space (see the module docstring)."""
    result = CompactResult()
    try:
        names = sorted(
            n[: -len(PACK_SUFFIX)] for n in os.listdir(index.folder) if n.endswith(PACK_SUFFIX)
        )
    except FileNotFoundError:
        names = []
    cutoff = time.time() - grace_seconds
    _remove_stale_staging(index, cutoff, result)
    if not names and not os.path.exists(index.index_path):
        return result  # no pack was ever written here
    on_disk = set(names)
    with index.writing() as conn:
        data_bytes = dict(conn.execute("SELECT name, bytes FROM packs").fetchall())
        listed = set(data_bytes)
        gone = [
            (p,)
            for p in {r[0] for r in conn.execute("SELECT DISTINCT pack FROM packed")}
            if p not in on_disk
        ]
        for (pack,) in gone:
            result.dropped_rows += conn.execute(
                "DELETE FROM packed WHERE pack = ?", (pack,)
            ).rowcount
        conn.executemany("DELETE FROM packs WHERE name = ?", [(p,) for p in listed - on_disk])
        live = dict(conn.execute("SELECT pack, SUM(size) FROM packed GROUP BY pack").fetchall())
    young = {name for name in names if _mtime(index.pack_path(name)) > cutoff}
    for name in names:
        if name not in listed:
            _reindex_or_remove(index, name, name in young, result)
    dead = [n for n in names if n in listed and n not in young and not live.get(n)]
    for name in dead:
        result.freed_bytes += _remove_pack(index, name)
        result.removed_packs += 1
    for name in names:
        if name not in listed or name in young or not live.get(name):
            continue
        if live[name] < data_bytes[name] * COMPACT_BELOW_SHARE:
            try:
                _rewrite(index, name, _size(index.pack_path(name)), result)
            except OSError as exc:
                result.errors.append(f"{name}{PACK_SUFFIX}: {exc}")
    return result


def _reindex_or_remove(index: PackIndex, name: str, young: bool, result: CompactResult) -> None:
    path = index.pack_path(name)
    table = read_table(path)
    if table is not None:
        good = _verified(path, table, result)
        index.index(name, good)
        result.reindexed_packs += 1
    elif not young:
        result.freed_bytes += _remove_pack(index, name)
        result.removed_packs += 1


def _verified(path: str, table: list[Entry], result: CompactResult) -> list[Entry]:
    return [(digest, offset, len(data)) for digest, offset, data in _intact(path, table, result)]


def _intact(
    path: str, entries: Iterable[Entry], result: CompactResult
) -> Iterator[tuple[str, int, bytes]]:
    """(digest, offset, bytes) of the entries whose bytes match their digest; the
    others are added to ``result.corrupt`` (and left where they are)."""
    with open(path, "rb") as source:
        for digest, offset, size in entries:
            data = os.pread(source.fileno(), size, offset)
            if len(data) == size and blake3.blake3(data).hexdigest() == digest:
                yield digest, offset, data
            else:
                result.corrupt.append(digest)


def _rewrite(index: PackIndex, pack: str, old_size: int, result: CompactResult) -> None:
    """Copy a pack's live blobs (verified) into a new pack, re-point them, drop the old."""
    old_path = index.pack_path(pack)
    with index.reading() as conn:
        assert conn is not None
        rows = conn.execute(
            "SELECT digest, offset, size FROM packed WHERE pack = ? ORDER BY offset", (pack,)
        ).fetchall()
    blobs = [(digest, data) for digest, _, data in _intact(old_path, rows, result)]
    if not blobs:
        return

    def repoint(new_pack: str, table: list[Entry]) -> None:
        with index.writing() as conn:
            conn.execute(
                "INSERT INTO packs (name, added, bytes) VALUES (?, ?, ?)",
                (new_pack, time.time(), sum(size for _, _, size in table)),
            )
            conn.executemany(
                "UPDATE packed SET pack = ?, offset = ? WHERE digest = ? AND pack = ?",
                [(new_pack, offset, digest, pack) for digest, offset, _ in table],
            )

    new_pack, _ = index.publish(blobs, repoint)
    new_path = index.pack_path(new_pack)
    if len(blobs) == len(rows):  # nothing corrupt stays behind in the old pack
        result.freed_bytes += old_size - _size(new_path)
        _remove_pack(index, pack)
        result.rewritten_packs += 1


def _remove_pack(index: PackIndex, name: str) -> int:
    path = index.pack_path(name)
    size = _size(path)
    with index.writing() as conn:
        conn.execute("DELETE FROM packs WHERE name = ?", (name,))
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    return size


def _remove_stale_staging(index: PackIndex, cutoff: float, result: CompactResult) -> None:
    """Packs a writer died writing, in ``tmp/``."""
    try:
        names = os.listdir(index.tmp)
    except FileNotFoundError:
        return
    for name in names:
        path = os.path.join(index.tmp, name)
        if (
            name.startswith(TMP_PACK_PREFIX)
            and name.endswith(PACK_SUFFIX)
            and _mtime(path) <= cutoff
        ):
            result.freed_bytes += _size(path)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except FileNotFoundError:
        return time.time()


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0
