"""Schema and row-count changes of the tables (CSV, Parquet) two versions both hold.

A table's summary comes from the version's stored profile when it has one
(``profile["files"][path]`` with ``row_count`` and ``columns``); else it is
read from the blob with pyarrow: Parquet footers are cheap; a CSV is read in
full (types as pyarrow infers them), so only blobs up to
:data:`MAX_TABLE_BYTES` are read, and at most :data:`MAX_TABLES` tables.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from shipyard.data.manifest import ManifestEntry
from shipyard.entities import DatasetVersion
from shipyard.errors import ShipyardError
from shipyard.store.base import BlobStore

__all__ = ["MAX_TABLES", "MAX_TABLE_BYTES", "TableChange", "TableSummary", "table_changes"]

MAX_TABLES = 20
MAX_TABLE_BYTES = 256 * 1024 * 1024
_CSV = (".csv", ".tsv")
_PARQUET = (".parquet", ".pq")


@dataclass(frozen=True, slots=True)
class TableSummary:
    row_count: int | None
    columns: dict[str, str]  # name -> type


@dataclass(frozen=True, slots=True)
class TableChange:
    path: str
    rows_before: int | None
    rows_after: int | None
    columns_added: dict[str, str]
    columns_removed: dict[str, str]
    types_changed: dict[str, tuple[str, str]]

    @property
    def schema_changed(self) -> bool:
        return bool(self.columns_added or self.columns_removed or self.types_changed)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "rows_before": self.rows_before,
            "rows_after": self.rows_after,
            "columns_added": self.columns_added,
            "columns_removed": self.columns_removed,
            "types_changed": {k: list(v) for k, v in self.types_changed.items()},
        }


def table_changes(
    blobs: BlobStore,
    old: DatasetVersion,
    new: DatasetVersion,
    modified: Sequence[tuple[ManifestEntry, ManifestEntry]],
) -> list[TableChange]:
    changes = []
    tables = [(a, b) for a, b in modified if b.path.lower().endswith(_CSV + _PARQUET)]
    for before, after in tables[:MAX_TABLES]:
        first = _summary(blobs, old, before)
        second = _summary(blobs, new, after)
        if first is None or second is None:
            continue
        a, b = first.columns, second.columns
        changes.append(
            TableChange(
                path=after.path,
                rows_before=first.row_count,
                rows_after=second.row_count,
                columns_added={k: v for k, v in b.items() if k not in a},
                columns_removed={k: v for k, v in a.items() if k not in b},
                types_changed={k: (a[k], b[k]) for k in a if k in b and a[k] != b[k]},
            )
        )
    return changes


def _summary(
    blobs: BlobStore, version: DatasetVersion, entry: ManifestEntry
) -> TableSummary | None:
    stored = _from_profile(version.profile, entry.path)
    if stored is not None:
        return stored
    if entry.size > MAX_TABLE_BYTES:
        return None
    try:
        with _local_copy(blobs, entry) as path:
            return _read(path, entry.path.lower())
    except (ShipyardError, OSError, ValueError, ImportError):
        return None


def _from_profile(profile: dict[str, Any] | None, path: str) -> TableSummary | None:
    files = profile.get("files") if isinstance(profile, dict) else None
    table = files.get(path) if isinstance(files, dict) else None
    if not isinstance(table, dict):
        return None
    rows = table.get("row_count")
    columns = table.get("columns")
    found: dict[str, str] = {}
    if isinstance(columns, dict):
        for name, info in columns.items():
            found[str(name)] = str(info.get("type") if isinstance(info, dict) else info)
    elif isinstance(columns, list):
        for item in columns:
            if isinstance(item, dict) and "name" in item:
                found[str(item["name"])] = str(item.get("type"))
    else:
        return None
    return TableSummary(rows if isinstance(rows, int) else None, found)


@contextlib.contextmanager
def _local_copy(blobs: BlobStore, entry: ManifestEntry) -> Iterator[str]:
    finder = getattr(blobs, "local_path", None)
    local = finder(entry.digest) if callable(finder) else None
    if isinstance(local, str) and os.path.exists(local):
        yield local
        return
    with tempfile.NamedTemporaryFile(prefix="shipyard-table-") as spool:
        for chunk in blobs.open(entry.digest):
            spool.write(chunk)
        spool.flush()
        yield spool.name


def _read(path: str, name: str) -> TableSummary:
    if name.endswith(_PARQUET):
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        meta = pq.read_metadata(path)
        schema = meta.schema.to_arrow_schema()
        return TableSummary(meta.num_rows, {f.name: str(f.type) for f in schema})
    import pyarrow.csv as pacsv  # type: ignore[import-untyped]

    options = pacsv.ParseOptions(delimiter="\t" if name.endswith(".tsv") else ",")
    reader = pacsv.open_csv(path, parse_options=options)
    rows = sum(batch.num_rows for batch in reader)
    return TableSummary(rows, {f.name: str(f.type) for f in reader.schema})
