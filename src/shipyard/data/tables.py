"""``sy.data.log_table`` and ``sy.data.load_table``: in-memory tables as dataset versions.

::

    v = sy.data.log_table(df, "iris", message="cleaned")   # datasets:/iris/2
    df = sy.data.load_table("datasets:/iris/2")

A logged table is one Parquet file, ``table.parquet``, written the same way
every time (fixed compression, no timestamps), so logging the same content
again gives the same bytes, the same digest, and no new version. It is added
like any file, which profiles it.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from shipyard.data.api import add_files, resolve_in
from shipyard.data.manifest import ManifestEntry, read_manifest
from shipyard.entities import DatasetVersion, LifecycleStage
from shipyard.errors import ConflictError, DataCorruptionError, InvalidInputError, NotFoundError
from shipyard.store.base import BlobStore
from shipyard.store.hashing import hash_bytes
from shipyard.tracking import state
from shipyard.tracking.client import Client

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa  # type: ignore[import-untyped]

# pyarrow and the profiler load on first use: ``import shipyard`` stays quick.
_PARQUET = (".parquet", ".pq")
_TABLES = (*_PARQUET, ".csv", ".csv.gz", ".csv.bz2", ".tsv", ".tsv.gz", ".tsv.bz2")

__all__ = ["TABLE_FILE", "load_table", "log_table", "write_parquet"]

log = logging.getLogger(__name__)

TABLE_FILE = "table.parquet"
_COMPRESSION = "zstd"


def _client(client: Client | None) -> Client:
    if client is not None:
        return client
    from shipyard.tracking.fluent import default_client

    return default_client()


def write_parquet(table: pa.Table, path: str | os.PathLike[str]) -> None:
    """Write ``table`` so that equal content always gives equal bytes.

    Parquet holds no write time; the settings that shape the bytes are pinned
    here rather than left to library defaults. Bytes stay equal for one
    pyarrow version: the footer names the writer's version.
    """
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    pq.write_table(
        table,
        os.fspath(path),
        compression=_COMPRESSION,
        compression_level=3,
        version="2.6",
        data_page_version="1.0",
        use_dictionary=True,
        write_statistics=True,
        row_group_size=1024 * 1024,
    )


def log_table(
    df: Any,
    name: str,
    message: str | None = None,
    tags: Sequence[str] | None = None,
    *,
    client: Client | None = None,
) -> DatasetVersion:
    """Store a pandas / polars / pyarrow table as the next version of dataset ``name``.

    The version holds one file, ``table.parquet``, and the table's profile.
    Logging the same content as the latest version creates nothing and
    returns that version.
    """
    from shipyard.data.profile import to_arrow

    table = to_arrow(df)
    with tempfile.TemporaryDirectory(prefix="shipyard-table-") as folder:
        path = os.path.join(folder, TABLE_FILE)
        write_parquet(table, path)
        result = add_files(path, name, message, tags, quiet=True, client=client)
    if not result.created:
        log.info("%s is unchanged: %s already holds this table", name, result.version.uri)
    return result.version


def load_table(
    uri: str | DatasetVersion, *, path: str | None = None, client: Client | None = None
) -> pd.DataFrame:
    """A version's table as a pandas DataFrame (``uri`` like ``datasets:/iris/2``).

    The version's one table, or ``path`` among several; a version of several
    Parquet files only (the parts of one table) reads as their concatenation,
    in path order. Inside an active run the version is recorded as an input.
    """
    import pandas as pd

    c = _client(client)
    version = resolve_in(c.store, uri)
    if version.lifecycle_stage is LifecycleStage.DELETED:
        raise ConflictError(
            f"{version.uri} is deleted; restore it first (shipyard data restore "
            f"{version.dataset}@{version.version})"
        )
    entries = _tables(c.blob_store, version, path)
    frames = [_read(c.blob_store, entry) for entry in entries]
    run = state.current_run()
    if run is not None:
        run.use_dataset(version)
    if len(frames) == 1:
        return frames[0]
    return pd.concat(frames, ignore_index=True)


def _tables(blobs: BlobStore, version: DatasetVersion, path: str | None) -> list[ManifestEntry]:
    manifest = read_manifest(blobs, version.manifest_digest)
    if path is not None:
        entry = manifest.by_path.get(path)
        if entry is None:
            raise NotFoundError(f"{version.uri} has no file {path!r}")
        if not entry.path.lower().endswith(_TABLES):
            raise InvalidInputError(f"{path!r} is not a table (CSV, TSV or Parquet file)")
        return [entry]
    tables = [entry for entry in manifest if entry.path.lower().endswith(_TABLES)]
    if not tables:
        raise InvalidInputError(f"{version.uri} holds no table (CSV, TSV or Parquet file)")
    parts = all(e.path.lower().endswith(_PARQUET) for e in tables)
    if len(tables) > 1 and not parts:
        shown = ", ".join(e.path for e in tables[:10])
        raise InvalidInputError(
            f"{version.uri} holds {len(tables)} tables ({shown}); choose one with path="
        )
    return tables


def _read(blobs: BlobStore, entry: ManifestEntry) -> pd.DataFrame:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = b"".join(blobs.open(entry.digest))
    if len(data) != entry.size or hash_bytes(data) != entry.digest:
        raise DataCorruptionError(f"{entry.path}: stored blob {entry.digest} is corrupt")
    lower = entry.path.lower()
    try:
        if lower.endswith(_PARQUET):
            frame: pd.DataFrame = pq.read_table(pa.BufferReader(data)).to_pandas()
            return frame
        sep = "\t" if lower.endswith((".tsv", ".tsv.gz", ".tsv.bz2")) else ","
        if lower.endswith(".gz"):
            return pd.read_csv(io.BytesIO(data), sep=sep, compression="gzip")
        if lower.endswith(".bz2"):
            return pd.read_csv(io.BytesIO(data), sep=sep, compression="bz2")
        return pd.read_csv(io.BytesIO(data), sep=sep)
    except (pa.ArrowException, ValueError) as exc:
        raise InvalidInputError(f"could not read {entry.path} as a table: {exc}") from None
