"""What changed between two dataset versions: files added, removed and modified.

Computed from the two manifests alone (no file is read). Tables present in
both versions and modified (CSV, Parquet) also get their schema and row-count
change, see :mod:`shipyard.data.diff_tables`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shipyard.data.diff_tables import TableChange, table_changes
from shipyard.data.manifest import Manifest, ManifestEntry, read_manifest
from shipyard.entities import DatasetVersion
from shipyard.store.base import BlobStore

__all__ = ["DatasetDiff", "diff_manifests", "diff_versions"]


@dataclass(frozen=True, slots=True)
class DatasetDiff:
    """``modified`` pairs (old, new) of files whose content or executable bit changed."""

    old: str
    new: str
    added: list[ManifestEntry]
    removed: list[ManifestEntry]
    modified: list[tuple[ManifestEntry, ManifestEntry]]
    unchanged: int
    tables: list[TableChange] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.modified)

    @property
    def size_change(self) -> int:
        return (
            sum(e.size for e in self.added)
            - sum(e.size for e in self.removed)
            + sum(new.size - old.size for old, new in self.modified)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "added": [e.to_json() for e in self.added],
            "removed": [e.to_json() for e in self.removed],
            "modified": [
                {"path": new.path, "old": old.to_json(), "new": new.to_json()}
                for old, new in self.modified
            ],
            "unchanged": self.unchanged,
            "size_change": self.size_change,
            "tables": [change.to_json() for change in self.tables],
        }


def diff_manifests(
    old: Manifest, new: Manifest, old_name: str = "", new_name: str = ""
) -> DatasetDiff:
    before, after = old.by_path, new.by_path
    added = [entry for path, entry in after.items() if path not in before]
    removed = [entry for path, entry in before.items() if path not in after]
    modified = []
    unchanged = 0
    for path, entry in after.items():
        previous = before.get(path)
        if previous is None:
            continue
        if (previous.digest, previous.executable) != (entry.digest, entry.executable):
            modified.append((previous, entry))
        else:
            unchanged += 1
    return DatasetDiff(old_name, new_name, added, removed, modified, unchanged)


def diff_versions(
    blobs: BlobStore, old: DatasetVersion, new: DatasetVersion, *, tables: bool = True
) -> DatasetDiff:
    """Files and, with ``tables``, table schemas and row counts that differ."""
    diff = diff_manifests(
        read_manifest(blobs, old.manifest_digest),
        read_manifest(blobs, new.manifest_digest),
        old.uri,
        new.uri,
    )
    if tables and diff.modified:
        diff.tables.extend(table_changes(blobs, old, new, diff.modified))
    return diff
