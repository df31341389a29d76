"""Data profiles of tables: what ``shipyard data show`` and the UI display, what
``data diff`` compares, and the reference the monitoring compares live data with.

A version's profile holds one table profile per tabular file (CSV, TSV, Parquet)::

    {"format": 1, "files": {"train.csv": {
        "format": 1, "row_count": 150, "column_count": 2, "sample_rows": 150,
        "columns": {
          "sepal_length": {"type": "double", "kind": "float", "count": 149,
              "missing_count": 1, "missing_share": 0.0067, "infinite_count": 0,
              "min": 4.3, "max": 7.9, "mean": 5.84, "std": 0.83,
              "quantiles": {"p01": 4.4, "p05": 4.6, ..., "p99": 7.7},
              "histogram": {"edges": [4.3, 4.48, ..., 7.9], "counts": [4, 1, ...]}},
          "species": {"type": "string", "kind": "string", "count": 150,
              "missing_count": 0, "missing_share": 0.0, "distinct": 3,
              "distinct_exact": true, "other_count": 0,
              "top": [{"value": "setosa", "count": 50}, ...]}}}}}

``type`` is the Arrow type (what a schema diff compares); ``kind`` is one of
integer, float, boolean, string, datetime, other. Missing values are nulls and
NaN; infinities are counted apart and left out of min / max / mean / std /
quantiles / histogram. Booleans get category counts (``"true"``, ``"false"``)
and ``mean`` (the share of true); datetimes get ``min`` and ``max`` as strings.
Histogram ``counts`` are over the sampled rows (``sample_rows``, all rows up to
:data:`~shipyard.data.profile_stats.SAMPLE_ROWS`), see
:mod:`shipyard.data.profile_stats`. Every number is JSON-safe: what cannot be
a finite number is ``null``.

Files are read in batches (Parquet row groups, the streaming CSV reader), so a
large file is never loaded whole.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.csv as pacsv  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from shipyard.data.profile_stats import ColumnStats, NumberStats, RowSample, column_stats
from shipyard.errors import InvalidInputError

__all__ = [
    "BATCH_ROWS",
    "CSV_BLOCK_BYTES",
    "FORMAT",
    "MAX_PROFILE_BYTES",
    "fit_profile",
    "is_table_path",
    "profile_file",
    "profile_table",
    "profile_version",
    "schema_and_rows",
    "to_arrow",
]

FORMAT = 1
BATCH_ROWS = 128 * 1024
CSV_BLOCK_BYTES = 8 << 20  # the first block also decides the column types
# A version's profile must pass the store's size check (4 MiB of JSON): keep margin.
MAX_PROFILE_BYTES = 3 * 1024 * 1024
_PARQUET = (".parquet", ".pq")
_CSV = (".csv", ".csv.gz", ".csv.bz2")
_TSV = (".tsv", ".tsv.gz", ".tsv.bz2")
_CONVERSION_RE = re.compile(r"CSV column #(\d+): CSV conversion error to (\w+)")
_UNNAMED_INDEX_RE = re.compile(r"__index_level_\d+__")
_NEXT_TYPE = {"int64": pa.float64(), "uint64": pa.float64()}


def is_table_path(path: str) -> bool:
    return path.lower().endswith(_PARQUET + _CSV + _TSV)


def profile_file(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The profile of a CSV, TSV or Parquet file; ``None`` for any other file.

    ``InvalidInputError`` when the file has a table suffix but cannot be read as one.
    """
    name = os.fspath(path)
    lower = name.lower()
    try:
        if lower.endswith(_PARQUET):
            parquet = pq.ParquetFile(name)
            rows = parquet.metadata.num_rows
            return _profile(parquet.schema_arrow, parquet.iter_batches(BATCH_ROWS), rows)
        if lower.endswith(_CSV + _TSV):
            return _profile_csv(name, "\t" if lower.endswith(_TSV) else ",")
    except (pa.ArrowException, ValueError) as exc:
        raise InvalidInputError(f"could not read {name} as a table: {exc}") from None
    return None


def _profile_csv(path: str, delimiter: str) -> dict[str, Any]:
    """Stream the CSV; a value that breaks the type inferred from the first block
    restarts the read with that column widened (int -> float -> string)."""
    overrides: dict[str, pa.DataType] = {}
    while True:
        try:
            reader = pacsv.open_csv(
                path,
                read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
                parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(
                    column_types=overrides, strings_can_be_null=True
                ),
            )
        except pa.ArrowInvalid as exc:
            if "Empty CSV file" in str(exc):
                return _profile(pa.schema([]), iter(()), 0)
            raise
        try:
            return _profile(reader.schema, reader, None)
        except pa.ArrowInvalid as exc:
            found = _CONVERSION_RE.search(str(exc))
            if found is None:
                raise
            column = reader.schema.field(int(found.group(1))).name
            wider = _NEXT_TYPE.get(found.group(2), pa.string())
            if overrides.get(column) == wider:
                raise
            overrides[column] = wider


def to_arrow(table: Any) -> pa.Table:
    """A pyarrow Table from a pandas DataFrame, a polars DataFrame or an Arrow table/batch."""
    if isinstance(table, pa.Table):
        return table
    if isinstance(table, pa.RecordBatch):
        return pa.Table.from_batches([table])
    module = type(table).__module__.split(".")[0]
    if module == "pandas":
        import pandas as pd

        if isinstance(table, pd.DataFrame):
            try:
                return pa.Table.from_pandas(table)
            except (pa.ArrowTypeError, pa.ArrowInvalid) as exc:
                raise InvalidInputError(
                    f"the DataFrame cannot be stored as a table: {exc} "
                    "(give each column one type, e.g. df[col].astype(str))"
                ) from None
    if module == "polars" and hasattr(table, "to_arrow"):
        return table.to_arrow()
    if hasattr(table, "__arrow_c_stream__"):
        return pa.table(table)
    raise InvalidInputError(
        "expected a pandas DataFrame, a polars DataFrame or a pyarrow Table, "
        f"got {type(table).__name__}"
    )


def profile_table(table: Any) -> dict[str, Any]:
    """The profile of an in-memory table (pandas, polars or pyarrow)."""
    arrow = to_arrow(table)
    return _profile(arrow.schema, arrow.to_batches(BATCH_ROWS), arrow.num_rows)


def _unique_names(names: Sequence[str]) -> list[str]:
    """Repeated column names (a CSV header may repeat one) as ``name.1``, ``name.2``..."""
    seen: dict[str, int] = {}
    out = []
    for raw in names:
        name = str(raw)
        while name in seen:
            seen[str(raw)] += 1
            name = f"{raw}.{seen[str(raw)]}"
        seen.setdefault(name, 0)
        out.append(name)
    return out


def _profile(
    schema: pa.Schema, batches: Iterable[pa.RecordBatch], rows: int | None
) -> dict[str, Any]:
    names = _unique_names(schema.names)
    # An unnamed pandas index is stored as a column but is not data; a named one is kept.
    stats: list[ColumnStats | None] = [
        None if _UNNAMED_INDEX_RE.fullmatch(n) else column_stats(n, f.type)
        for n, f in zip(names, schema, strict=True)
    ]
    kept = [s for s in stats if s is not None]
    sample = RowSample([s.name for s in kept if isinstance(s, NumberStats)])
    seen = 0
    for batch in batches:
        if not batch.num_rows:
            continue
        seen += batch.num_rows
        chosen = sample.choose(batch.num_rows)
        for column, array in zip(stats, batch.columns, strict=True):
            if column is not None:
                column.update(array, chosen, sample)
        sample.shrink()
    if rows is not None and rows != seen:
        raise InvalidInputError(f"the table says it has {rows} rows but {seen} were read")
    return {
        "format": FORMAT,
        "row_count": seen,
        "column_count": len(kept),
        "sample_rows": sample.rows if any(isinstance(s, NumberStats) for s in kept) else seen,
        "columns": {s.name: s.result(seen, sample) for s in kept},
    }


def profile_version(files: Iterable[tuple[str, str | os.PathLike[str]]]) -> dict[str, Any] | None:
    """``{"format": 1, "files": {relative path: profile}}`` of the tabular files, or None.

    ``files`` are (path in the version, local path) pairs; other files are passed over.
    """
    profiles: dict[str, Any] = {}
    for rel, local in files:
        if is_table_path(rel):
            profile = profile_file(local)
            if profile is not None:
                profiles[rel] = profile
    return fit_profile(profiles)


def fit_profile(profiles: dict[str, Any]) -> dict[str, Any] | None:
    """Wrap per-file profiles as a version profile that fits :data:`MAX_PROFILE_BYTES`.

    Too large (many wide tables), it sheds detail in steps: shorter category
    lists, then no histograms and categories, then only types and missing
    shares, then whole files; ``"truncated": true`` says so.
    """
    if not profiles:
        return None
    document: dict[str, Any] = {"format": FORMAT, "files": profiles}
    for shed in (_fewer_categories, _no_distributions, _types_only, _fewer_files):
        if _size(document) <= MAX_PROFILE_BYTES:
            return document
        document = {"format": FORMAT, "files": shed(document["files"]), "truncated": True}
    return document


def _size(document: dict[str, Any]) -> int:
    return len(json.dumps(document, allow_nan=False, separators=(",", ":")))


def _map_columns(files: dict[str, Any], keep: Any) -> dict[str, Any]:
    return {
        path: {**table, "columns": {n: keep(c) for n, c in table["columns"].items()}}
        for path, table in files.items()
    }


def _fewer_categories(files: dict[str, Any]) -> dict[str, Any]:
    def keep(column: dict[str, Any]) -> dict[str, Any]:
        if "top" not in column:
            return column
        top = column["top"][:5]
        other = column["count"] - sum(t["count"] for t in top)
        return {**column, "top": top, "other_count": other}

    return _map_columns(files, keep)


def _no_distributions(files: dict[str, Any]) -> dict[str, Any]:
    drop = ("top", "other_count", "histogram", "quantiles")
    return _map_columns(files, lambda c: {k: v for k, v in c.items() if k not in drop})


def _types_only(files: dict[str, Any]) -> dict[str, Any]:
    kept = ("type", "kind", "count", "missing_count", "missing_share")
    return _map_columns(files, lambda c: {k: v for k, v in c.items() if k in kept})


def _fewer_files(files: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    used = 64
    for path, table in files.items():
        used += _size({path: table})
        if used > MAX_PROFILE_BYTES:
            break
        kept[path] = table
    return kept


def schema_and_rows(profile: dict[str, Any]) -> tuple[dict[str, str], int | None]:
    """A table profile's schema (column name -> Arrow type) and row count."""
    columns = profile.get("columns")
    schema = (
        {str(n): str(c.get("type")) for n, c in columns.items()}
        if isinstance(columns, dict)
        else {}
    )
    rows = profile.get("row_count")
    return schema, rows if isinstance(rows, int) else None
