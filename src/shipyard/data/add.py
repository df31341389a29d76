"""``add``: a file or folder becomes a new dataset version, or is found unchanged.

The order is what makes an interruption harmless: hash, ask the blob store
which blobs it lacks, upload those (in parallel), upload the manifest blob,
and only then record the version. A crash, Ctrl-C or full disk before the last
step leaves at most some unreferenced blobs (``shipyard gc`` reclaims them)
and no version; running the same command again uploads only what is missing.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.data.bulk import cyclic_gc_paused
from shipyard.data.manifest import store_manifest
from shipyard.data.progress import progress_bar
from shipyard.data.scan import ScanResult, local_workers, scan
from shipyard.data.statcache import StatCache
from shipyard.entities import DatasetVersion
from shipyard.errors import DataCorruptionError, NotFoundError, ShipyardError
from shipyard.store.artifacts import FsspecBlobStore
from shipyard.store.base import BlobStore, Store
from shipyard.store.batching import batched
from shipyard.store.datasets_base import validate_dataset_name, validate_version_tag
from shipyard.store.packs import (
    MAX_PACKED_BLOB,
    MIN_PACKED_BLOBS,
    PACK_TARGET_BYTES,
    PackedSource,
)
from shipyard.tracking.context import current_user

if TYPE_CHECKING:
    from shipyard.store.rest.blobs import RestBlobStore

__all__ = ["TABLE_SUFFIXES", "AddResult", "add_path", "upload_blobs"]

log = logging.getLogger(__name__)

UPLOAD_WORKERS = 8
_BATCH_FILES = 32
_BATCH_BYTES = 64 * 1024 * 1024
# Work items for a server: each is a few batch requests (see RestBlobStore.put_many).
_REMOTE_BATCH_FILES = 2_000
_REMOTE_BATCH_BYTES = 16 * 1024 * 1024
# Packs smaller than this are not split further to spread work over threads.
MIN_PACK_BYTES = 8 * 1024 * 1024
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")
MAX_PROFILED_FILES = 100
_PROFILE_MODULE = "shipyard.data.profile"


@dataclass(frozen=True, slots=True)
class AddResult:
    """The version (new, or the latest one when the content is unchanged) and what it took."""

    version: DatasetVersion
    created: bool
    scan: ScanResult
    uploaded_files: int = 0
    uploaded_bytes: int = 0


def _latest(store: Store, name: str) -> DatasetVersion | None:
    try:
        return store.get_dataset_version(name, None)
    except NotFoundError:
        return None


def add_path(
    store: Store,
    blobs: BlobStore,
    path: str | os.PathLike[str],
    name: str,
    message: str | None = None,
    tags: Sequence[str] = (),
    *,
    strict: bool = False,
    quiet: bool | None = None,
    cache: StatCache | None = None,
    workers: int = UPLOAD_WORKERS,
) -> AddResult:
    """Store ``path`` (a file or folder) as the next version of dataset ``name``."""
    with cyclic_gc_paused():
        return _add_path(store, blobs, path, name, message, tags, strict, quiet, cache, workers)


def _add_path(
    store: Store,
    blobs: BlobStore,
    path: str | os.PathLike[str],
    name: str,
    message: str | None,
    tags: Sequence[str],
    strict: bool,
    quiet: bool | None,
    cache: StatCache | None,
    workers: int,
) -> AddResult:
    name = validate_dataset_name(name)
    tags = [validate_version_tag(tag) for tag in dict.fromkeys(tags)]
    found = scan(path, strict=strict, quiet=quiet, cache=cache)
    manifest = found.manifest
    if not len(manifest):
        raise ShipyardError(f"nothing to add: {path} holds no file that can be stored")
    latest = _latest(store, name)
    if latest is not None and latest.manifest_digest == manifest.digest:
        return AddResult(_tag_existing(store, latest, tags), False, found)
    missing = blobs.missing([*manifest.digests(), manifest.digest])
    files, size = upload_blobs(blobs, found, missing, quiet=quiet, workers=workers)
    # Last: with the manifest stored, every blob it names is stored too.
    if manifest.digest in missing:
        store_manifest(blobs, manifest)
    version, created = store.create_dataset_version(
        name,
        manifest.digest,
        len(manifest),
        manifest.total_size,
        message=message,
        author=current_user(),
        tags=tags,
        profile=profile_tables(found),
        idempotency_key=uuid.uuid4().hex,
    )
    if not created:  # another writer committed the same content first
        version = _tag_existing(store, version, tags)
    return AddResult(version, created, found, files, size)


def _tag_existing(store: Store, version: DatasetVersion, tags: Sequence[str]) -> DatasetVersion:
    fresh = [tag for tag in tags if tag not in version.tags]
    for tag in fresh:
        store.tag_dataset_version(version.dataset, version.version, tag)
    return store.get_dataset_version(version.dataset, version.version) if fresh else version


def upload_blobs(
    blobs: BlobStore,
    found: ScanResult,
    missing: Iterable[str],
    *,
    quiet: bool | None = None,
    workers: int = UPLOAD_WORKERS,
) -> tuple[int, int]:
    """Upload the files whose digests are ``missing``, one file per digest; (files, bytes)."""
    wanted = set(missing)
    todo: list[tuple[str, str, int, str]] = []  # (digest, source, size, manifest path)
    for entry in found.manifest:
        if entry.digest in wanted:
            wanted.discard(entry.digest)
            todo.append((entry.digest, found.sources[entry.path], entry.size, entry.path))
    if not todo:
        return 0, 0
    files, total = len(todo), sum(item[2] for item in todo)
    stop = threading.Event()
    jobs: list[Callable[[], None]]
    # Imported here: `import shipyard` must not pull in the HTTP client.
    from shipyard.store.rest.blobs import RestBlobStore

    with progress_bar("Uploading", total, quiet=quiet) as advance:
        if isinstance(blobs, RestBlobStore):
            batches = _batch(todo, _REMOTE_BATCH_FILES, _REMOTE_BATCH_BYTES)
            jobs = [functools.partial(_put_remote, blobs, b, stop, advance) for b in batches]
        else:
            jobs = []
            if isinstance(blobs, FsspecBlobStore) and blobs.is_local:
                small = [item for item in todo if item[2] <= MAX_PACKED_BLOB]
                if len(small) >= MIN_PACKED_BLOBS:
                    todo = [item for item in todo if item[2] > MAX_PACKED_BLOB]
                    packs = _split_packs(small, min(workers, local_workers()))
                    jobs = [functools.partial(_pack, blobs, b, stop, advance) for b in packs]
            put = _putter(blobs, found)
            jobs += [functools.partial(_put_batch, put, b, stop, advance) for b in _batch(todo)]
        _run_batches(jobs, workers, stop)
    return files, total


def _put_remote(
    blobs: RestBlobStore,
    batch: list[tuple[str, str, int, str]],
    stop: threading.Event,
    advance: Callable[[int], None],
) -> None:
    """Many small files per request: one request per file is what makes a server slow."""
    if stop.is_set():
        return
    with _reported(batch, "could not upload"):
        blobs.put_many((source, digest, size) for digest, source, size, _ in batch)
    advance(sum(item[2] for item in batch))


@contextlib.contextmanager
def _reported(batch: list[tuple[str, str, int, str]], failure: str) -> Iterator[None]:
    """Errors of storing a batch of files, said by the file at fault and what to do."""
    try:
        yield
    except DataCorruptionError as exc:
        changed = [rel for digest, _, _, rel in batch if digest in exc.message]
        raise DataCorruptionError(
            f"{changed[0] if changed else 'a file'} changed while it was being added; "
            "nothing was committed, add it again"
        ) from None
    except OSError as exc:
        raise ShipyardError(
            f"{failure}: {exc}; nothing was committed, run the same command again to resume"
        ) from exc


def _split_packs(
    small: list[tuple[str, str, int, str]], workers: int
) -> list[list[tuple[str, str, int, str]]]:
    """Packs of at most PACK_TARGET_BYTES, and enough of them to keep every worker busy."""
    total = sum(item[2] for item in small)
    share = -(-total // max(1, workers))
    limit = max(MIN_PACK_BYTES, min(PACK_TARGET_BYTES, share))
    return _batch(small, files=len(small), size=limit)


def _pack(
    blobs: FsspecBlobStore,
    batch: list[tuple[str, str, int, str]],
    stop: threading.Event,
    advance: Callable[[int], None],
) -> None:
    if stop.is_set():
        return
    with _reported(batch, f"could not store a pack of {len(batch)} small files"):
        blobs.pack([PackedSource(digest, source, size) for digest, source, size, _ in batch])
    advance(sum(item[2] for item in batch))


def _putter(blobs: BlobStore, found: ScanResult) -> Callable[[str, str, int, str], None]:
    """How one file is stored: a local folder copies it unhashed while its stat is unchanged."""
    if isinstance(blobs, FsspecBlobStore):
        keys = found.stat_keys

        def put_known(digest: str, source: str, size: int, rel: str) -> None:
            blobs.put_path(source, digest, size, keys.get(rel))

        return put_known

    def put(digest: str, source: str, size: int, rel: str) -> None:
        with open(source, "rb") as handle:
            blobs.put(handle, expected_digest=digest)

    return put


def _batch(
    todo: list[tuple[str, str, int, str]], files: int = _BATCH_FILES, size: int = _BATCH_BYTES
) -> list[list[tuple[str, str, int, str]]]:
    return list(batched(todo, _item_size, files, size))


def _item_size(item: tuple[str, str, int, str]) -> int:
    return item[2]


def _put_batch(
    put: Callable[[str, str, int, str], None],
    batch: list[tuple[str, str, int, str]],
    stop: threading.Event,
    advance: Callable[[int], None],
) -> None:
    for digest, source, size, rel in batch:
        if stop.is_set():
            return
        try:
            put(digest, source, size, rel)
        except DataCorruptionError:
            raise DataCorruptionError(
                f"{rel} changed while it was being added; nothing was committed, add it again"
            ) from None
        except OSError as exc:
            raise ShipyardError(
                f"could not store {rel}: {exc}; nothing was committed, "
                "run the same command again to resume"
            ) from exc
        advance(size)


def _run_batches(jobs: list[Callable[[], None]], workers: int, stop: threading.Event) -> None:
    """Run jobs on a pool; the first failure (or Ctrl-C) stops the rest and is raised."""
    pool = ThreadPoolExecutor(max(1, min(workers, len(jobs))))
    futures: list[Future[None]] = []
    try:
        futures = [pool.submit(job) for job in jobs]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in done:
            error = future.exception()
            if error is not None:
                raise error
    except BaseException:
        stop.set()
        for future in futures:
            future.cancel()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def profile_tables(found: ScanResult) -> dict[str, Any] | None:
    """``{"files": {path: profile}}`` for the tables (CSV, Parquet) of a version, or None.

    Uses ``shipyard.data.profile.profile_file(path) -> dict | None`` when that
    module is installed; a table that cannot be profiled is logged and left out.
    """
    tables = [e.path for e in found.manifest if e.path.lower().endswith(TABLE_SUFFIXES)]
    # Without tables, skip the import: the profiler loads pyarrow, a second or more.
    if not tables or importlib.util.find_spec(_PROFILE_MODULE) is None:
        return None
    profiler = importlib.import_module(_PROFILE_MODULE)
    profile_file = profiler.profile_file
    profiles: dict[str, Any] = {}
    for rel in tables[:MAX_PROFILED_FILES]:
        try:
            profile = profile_file(found.sources[rel])
        except (ShipyardError, OSError, ValueError) as exc:
            log.warning("could not profile %s: %s", rel, exc)
            continue
        if profile is not None:
            profiles[rel] = profile
    # fit_profile: {"format": 1, "files": ...}, shrunk to fit the store's size limit
    return profiler.fit_profile(profiles) if profiles else None
