"""Previews of run artifacts: images, text, the head of a CSV or Parquet table, JSON.

Only the first bytes of a file are read where that is enough (text, CSV), so a
multi-gigabyte artifact previews as fast as a small one; JSON and Parquet need
the whole file and are previewed only below a size limit.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from shipyard.entities import ArtifactEntry
from shipyard.store.base import BlobStore

__all__ = ["IMAGE_TYPES", "Preview", "preview_artifact", "read_head"]

TEXT_HEAD_BYTES = 64 * 1024
CSV_HEAD_BYTES = 256 * 1024
MAX_JSON_BYTES = 2 * 1024 * 1024
MAX_PARQUET_BYTES = 64 * 1024 * 1024
HEAD_ROWS = 50
MAX_CELL_CHARS = 200

IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
}
_CSV_DELIMITERS = {".csv": ",", ".tsv": "\t"}


@dataclass(frozen=True, slots=True)
class Preview:
    """What the artifact page shows; ``kind`` picks the template block."""

    kind: str  # image, text, table, json, binary, too_large
    text: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    truncated: bool = False
    note: str = ""


def read_head(blob_store: BlobStore, digest: str, limit: int) -> bytes:
    """Up to ``limit`` bytes from the start of a blob, reading no further."""
    buffer = bytearray()
    stream = blob_store.open(digest)
    try:
        for chunk in stream:
            buffer += chunk
            if len(buffer) >= limit:
                break
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()  # release the file or the connection now, not at garbage collection
    return bytes(buffer[:limit])


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


def _is_binary(head: bytes) -> bool:
    if b"\x00" in head[:8192]:
        return True
    try:
        head[:8192].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(head[:8192]) - 4  # a character cut at the end is fine
    return False


def _text(entry: ArtifactEntry, blob_store: BlobStore) -> Preview:
    head = read_head(blob_store, entry.digest, TEXT_HEAD_BYTES)
    if _is_binary(head):
        return Preview("binary", note="Binary file: download it to open it.")
    truncated = entry.size > len(head)
    note = f"Showing the first {len(head):,} bytes of {entry.size:,}." if truncated else ""
    return Preview("text", text=head.decode("utf-8", "replace"), truncated=truncated, note=note)


def _csv(entry: ArtifactEntry, blob_store: BlobStore, delimiter: str) -> Preview:
    head = read_head(blob_store, entry.digest, CSV_HEAD_BYTES)
    lines = head.decode("utf-8", "replace").splitlines()
    if entry.size > len(head) and lines:
        lines = lines[:-1]  # the last line may be cut short
    parsed = list(csv.reader(lines[: HEAD_ROWS + 1], delimiter=delimiter))
    if not parsed:
        return Preview("text", text="", note="Empty file.")
    columns, rows = parsed[0], parsed[1:]
    more = len(lines) > HEAD_ROWS + 1 or entry.size > len(head)
    note = f"First {len(rows)} rows." if more else f"{len(rows)} rows."
    return Preview(
        "table",
        columns=[_cell(c) for c in columns],
        rows=[[_cell(c) for c in row] for row in rows],
        truncated=more,
        note=note,
    )


def _json(entry: ArtifactEntry, blob_store: BlobStore) -> Preview:
    if entry.size > MAX_JSON_BYTES:
        return _text(entry, blob_store)
    raw = read_head(blob_store, entry.digest, MAX_JSON_BYTES)
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _text(entry, blob_store)
    pretty = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)
    truncated = len(pretty) > TEXT_HEAD_BYTES
    note = "Pretty-printed; showing the beginning." if truncated else ""
    return Preview("json", text=pretty[:TEXT_HEAD_BYTES], truncated=truncated, note=note)


def _parquet(entry: ArtifactEntry, blob_store: BlobStore) -> Preview:
    if entry.size > MAX_PARQUET_BYTES:
        limit = MAX_PARQUET_BYTES // (1024 * 1024)
        return Preview("too_large", note=f"Parquet files over {limit} MB are not previewed.")
    raw = read_head(blob_store, entry.digest, MAX_PARQUET_BYTES)
    try:
        parquet = pq.ParquetFile(io.BytesIO(raw))
        batch = next(parquet.iter_batches(batch_size=HEAD_ROWS), None)
    except (pa.ArrowException, OSError) as exc:
        return Preview("binary", note=f"Not a readable Parquet file: {exc}")
    columns = list(parquet.schema_arrow.names)
    records = batch.to_pylist() if batch is not None else []
    rows = [[_cell(record.get(name)) for name in columns] for record in records]
    total = parquet.metadata.num_rows
    types = ", ".join(f"{f.name}: {f.type}" for f in parquet.schema_arrow)
    return Preview(
        "table",
        columns=columns,
        rows=rows,
        truncated=total > len(rows),
        note=f"First {len(rows)} of {total:,} rows. Schema: {types}",
    )


def preview_artifact(entry: ArtifactEntry, blob_store: BlobStore) -> Preview:
    suffix = PurePosixPath(entry.path).suffix.lower()
    if suffix in IMAGE_TYPES:
        return Preview("image")
    if entry.size == 0:
        return Preview("text", text="", note="Empty file.")
    if suffix in _CSV_DELIMITERS:
        return _csv(entry, blob_store, _CSV_DELIMITERS[suffix])
    if suffix == ".json":
        return _json(entry, blob_store)
    if suffix in (".parquet", ".pq"):
        return _parquet(entry, blob_store)
    return _text(entry, blob_store)  # sniffed: text shows, anything binary says so
