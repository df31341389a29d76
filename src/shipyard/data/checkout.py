"""Materialize a dataset version's files in a folder, every one verified.

A corrupt blob is reported (``DataCorruptionError``) and never appears in the
folder: a small file (up to 1 MiB) is checked in memory before it is written
to its name; a larger one is written to a hidden ``.NAME.<digest>.part``
beside its target, checked, and only then renamed into place. A target
already holding the right bytes is left alone (the stat cache makes that
check cheap), so a second checkout is quick.

How the bytes get there (``link``):

``"auto"`` (default)
    From a local blob folder: a reflink (copy-on-write clone, FICLONE) where the
    filesystem supports it (btrfs, XFS), else a copy. From a server: small files
    a thousand at a time, many per request (``POST /api/v1/blobs/fetch``), larger
    ones streamed, a ``.part`` file left by an interrupted download resumed with
    a range request.
``"copy"``
    Always a copy.
``"hardlink"``
    Hard links to the local blob files: instant and no extra space, but the files
    are the store's read-only blobs and their executable bits are not applied;
    never make them writable or edit them, as that would change the stored data.

Blobs kept in pack files are always copied. Files in the folder that the
version does not name are left alone. Paths come from a validated manifest,
and no file is ever written through a symlink.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from shipyard.data.bulk import cyclic_gc_paused
from shipyard.data.manifest import Manifest, ManifestEntry, read_manifest
from shipyard.data.placer import SMALL_FILE, FilePlacer, LinkMode, packed_locations
from shipyard.data.progress import progress_bar
from shipyard.data.scan import local_workers
from shipyard.data.statcache import StatCache
from shipyard.entities import DatasetVersion
from shipyard.errors import DataCorruptionError, InvalidInputError, ShipyardError
from shipyard.store.base import BlobStore
from shipyard.store.batching import batched
from shipyard.store.rest.fetch_frames import FETCH_MAX_BYTES

__all__ = ["CheckoutResult", "LinkMode", "checkout", "materialize"]

LINK_MODES: tuple[LinkMode, ...] = ("auto", "copy", "hardlink")
DOWNLOAD_WORKERS = 8
_BATCH = 64  # files per task: one future per file costs more than a small file's copy
# From a server: files per task, their small ones fetched in one request.
_REMOTE_BATCH = 1_000
MAX_SHOWN_FAILURES = 5


@dataclass(slots=True)
class CheckoutResult:
    """Where the files are and what it took: written now, or found already in place."""

    dest: Path
    manifest: Manifest
    written: int = 0
    present: int = 0
    written_bytes: int = 0
    failures: list[tuple[str, ShipyardError]] = field(default_factory=list)


def checkout(
    blobs: BlobStore,
    version: DatasetVersion,
    dest: str | os.PathLike[str],
    *,
    link: LinkMode = "auto",
    quiet: bool | None = None,
    workers: int = DOWNLOAD_WORKERS,
    cache: StatCache | None = None,
) -> CheckoutResult:
    """Fetch the version's manifest (refused if any path could escape) and materialize it."""
    manifest = read_manifest(blobs, version.manifest_digest)
    return materialize(blobs, manifest, dest, link=link, quiet=quiet, workers=workers, cache=cache)


def materialize(
    blobs: BlobStore,
    manifest: Manifest,
    dest: str | os.PathLike[str],
    *,
    link: LinkMode = "auto",
    quiet: bool | None = None,
    workers: int = DOWNLOAD_WORKERS,
    cache: StatCache | None = None,
) -> CheckoutResult:
    if link not in LINK_MODES:
        raise InvalidInputError(f"link must be one of {', '.join(LINK_MODES)}, got {link!r}")
    with cyclic_gc_paused():
        return _materialize(blobs, manifest, dest, link, quiet, workers, cache)


def _materialize(
    blobs: BlobStore,
    manifest: Manifest,
    dest: str | os.PathLike[str],
    link: LinkMode,
    quiet: bool | None,
    workers: int,
    cache: StatCache | None,
) -> CheckoutResult:
    root = os.path.abspath(dest)
    os.makedirs(root, exist_ok=True)
    result = CheckoutResult(Path(root), manifest)
    own_cache = cache is None
    stat_cache = cache or StatCache()
    try:
        known = stat_cache.load(root)
        writer = FilePlacer(blobs, root, link, known, packed_locations(blobs, manifest))
        if writer.local:
            workers = min(workers, local_workers())
        entries = manifest.entries
        tasks = _fetch_tasks(entries) if writer.fetches else _tasks(len(entries), _BATCH)
        try:
            with (
                progress_bar("Checking out", manifest.total_size, quiet=quiet) as advance,
                ThreadPoolExecutor(max(1, workers)) as pool,
            ):
                outcomes: dict[int, bool | ShipyardError] = {}
                done = pool.map(
                    lambda task: writer.place_many([entries[i] for i in task], advance), tasks
                )
                for task, results in zip(tasks, done, strict=True):
                    outcomes.update(zip(task, results, strict=True))
                for index, entry in enumerate(entries):
                    outcome = outcomes[index]
                    if isinstance(outcome, ShipyardError):
                        result.failures.append((entry.path, outcome))
                    elif outcome:
                        result.written += 1
                        result.written_bytes += entry.size
                    else:
                        result.present += 1
        finally:
            writer.close()
        stat_cache.save(writer.rows)
    finally:
        if own_cache:
            stat_cache.close()
    if result.failures:
        raise _failure(result)
    return result


def _tasks(count: int, per_task: int) -> list[list[int]]:
    return [list(range(at, min(at + per_task, count))) for at in range(0, count, per_task)]


def _fetch_tasks(entries: Sequence[ManifestEntry]) -> list[list[int]]:
    """From a server: small files by the thousand (one request, at most 16 MiB held at
    once per worker), each large file a task of its own (streamed in parallel)."""
    large = [[i] for i, entry in enumerate(entries) if entry.size > SMALL_FILE]
    small = [i for i, entry in enumerate(entries) if entry.size <= SMALL_FILE]

    def size(index: int) -> int:
        return entries[index].size

    return large + list(batched(small, size, _REMOTE_BATCH, FETCH_MAX_BYTES))


def _failure(result: CheckoutResult) -> ShipyardError:
    failures = result.failures
    shown = "; ".join(f"{path}: {error.message}" for path, error in failures[:MAX_SHOWN_FAILURES])
    hidden = len(failures) - MAX_SHOWN_FAILURES
    more = f" and {hidden} more" if hidden > 0 else ""
    summary = (
        f"{len(failures)} of {len(result.manifest)} file(s) could not be checked out "
        f"and were not written: {shown}{more}"
    )
    corrupt = [error for _, error in failures if isinstance(error, DataCorruptionError)]
    return DataCorruptionError(summary) if corrupt else type(failures[0][1])(summary)
