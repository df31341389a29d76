"""A local cache of package files, keyed by their BLAKE3 digest.

``<cache dir>/models/<digest[:2]>/<digest>``, where the cache dir is the one
every Shipyard cache uses (``SHIPYARD_CACHE_DIR``, else ``$SHIPYARD_HOME/cache``,
else ``~/.cache/shipyard``). A file is written beside its final name and
renamed into place only after its digest and size matched the manifest, so
concurrent loads never see a partial file. Every load hashes the cached copy
again; a copy that no longer matches is fetched anew.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from shipyard.data.statcache import default_cache_dir
from shipyard.entities import ArtifactEntry
from shipyard.errors import DataCorruptionError
from shipyard.models.manifest import FileEntry
from shipyard.store.base import BlobStore
from shipyard.store.hashing import hash_file
from shipyard.tracking.artifacts import download_entry

__all__ = ["cache_root", "fetch_files"]

log = logging.getLogger(__name__)


def cache_root() -> Path:
    return default_cache_dir() / "models"


def _cached_path(digest: str) -> Path:
    return cache_root() / digest[:2] / digest


def fetch_files(blobs: BlobStore, files: Mapping[str, FileEntry], where: str) -> dict[str, Path]:
    """Local, verified copies of the package files (name -> path in the cache)."""
    found: dict[str, Path] = {}
    for name, entry in sorted(files.items()):
        path = _cached_path(entry.digest)
        if path.is_file():
            if hash_file(path) == (entry.digest, entry.size):
                found[name] = path
                continue
            log.warning("cached copy of %s of %s is damaged; fetching it again", name, where)
            path.unlink(missing_ok=True)
        _download(blobs, name, entry, path, where)
        found[name] = path
    return found


def _download(blobs: BlobStore, name: str, entry: FileEntry, path: Path, where: str) -> None:
    """Into the cache under its digest: streamed, verified and moved in whole by the
    artifact download every other reader uses; read-only once there."""
    relative = path.relative_to(cache_root()).as_posix()
    try:
        download_entry(blobs, ArtifactEntry(relative, entry.size, entry.digest), cache_root())
    except DataCorruptionError:
        raise DataCorruptionError(
            f"file {name!r} of {where} does not match its manifest (digest {entry.digest}, "
            f"{entry.size} bytes)"
        ) from None
    os.chmod(path, 0o444)
