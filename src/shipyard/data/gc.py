"""Garbage collection: remove the blobs nothing refers to any more.

Live references are what the metadata store names (every stored run's
artifacts, the manifests of live dataset versions: ``Store.referenced_digests``)
plus every file the live manifests list. Anything else in the blob store goes:
blobs of soft-deleted versions, and blobs an interrupted add left behind.
Then pack files (local stores) that hold no live blob are removed, and those
mostly dead are rewritten with only their live blobs.

Blobs younger than the grace period are spared: an ``add`` in progress has
uploaded them but not yet committed its version. A blob that an add finds
already stored is not made younger, so run gc while no add re-stores content
of deleted versions. A manifest of a live version that cannot be read stops
the collection before anything is removed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from shipyard.data.manifest import read_manifest
from shipyard.errors import ShipyardError
from shipyard.store.artifacts import FsspecBlobStore, StoredBlob
from shipyard.store.base import Store
from shipyard.store.pack_compaction import CompactResult

__all__ = ["DEFAULT_GRACE_SECONDS", "GcResult", "collect_garbage"]

DEFAULT_GRACE_SECONDS = 3600.0


@dataclass(slots=True)
class GcResult:
    """What a collection found; ``removed`` lists what went (or would go, in a dry run)."""

    dry_run: bool
    stored: int = 0
    referenced: int = 0
    removed: list[StoredBlob] = field(default_factory=list)
    spared_young: int = 0
    packs: CompactResult = field(default_factory=CompactResult)

    @property
    def freed_bytes(self) -> int:
        """Loose blobs removed, and what rewriting or removing pack files gave back
        (a removed packed blob frees nothing until its pack is compacted)."""
        loose = sum(blob.size for blob in self.removed if not blob.packed)
        return loose + self.packs.freed_bytes


def live_digests(store: Store, blobs: FsspecBlobStore) -> set[str]:
    """Every blob digest a live record needs, manifests expanded into their files."""
    referenced = set(store.referenced_digests())
    for digest in sorted(store.live_manifest_digests()):
        referenced.add(digest)
        try:
            manifest = read_manifest(blobs, digest)
        except ShipyardError as exc:
            raise ShipyardError(
                f"cannot read the manifest {digest} of a live dataset version ({exc.message}); "
                "nothing was removed"
            ) from exc
        referenced.update(manifest.digests())
    return referenced


def collect_garbage(
    store: Store,
    blobs: FsspecBlobStore,
    *,
    dry_run: bool = False,
    grace_seconds: float = DEFAULT_GRACE_SECONDS,
) -> GcResult:
    """Remove (or with ``dry_run`` only list) unreferenced blobs older than the grace period."""
    referenced = live_digests(store, blobs)
    cutoff = time.time() - grace_seconds
    result = GcResult(dry_run, referenced=len(referenced))
    for blob in blobs.iter_blobs():
        result.stored += 1
        if blob.digest in referenced:
            continue
        if blob.modified > cutoff:
            result.spared_young += 1
            continue
        if dry_run or blobs.delete(blob.digest):
            result.removed.append(blob)
    if not dry_run:
        # Removed packed blobs free their space only when their pack is rewritten.
        result.packs = blobs.compact(grace_seconds)
    return result
