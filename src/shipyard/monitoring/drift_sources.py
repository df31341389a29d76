"""The tables :func:`~shipyard.monitoring.drift` reads: pandas, polars, Arrow, Parquet.

A :class:`Source` knows its columns (name, kind, type) before any data is
read, and hands out batches. A batch gives a column either as float64 values
(NaN where missing) or as value counts, and converts a column only when asked,
so a wide table never has all its columns converted at once. In-memory tables
are one batch; Parquet files are read one record batch at a time, so a window
larger than memory is never loaded whole.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from shipyard.data.profile_stats import kind_of
from shipyard.errors import InvalidInputError

__all__ = [
    "BATCH_ROWS",
    "Batch",
    "ColumnInfo",
    "Counts",
    "Source",
    "open_source",
    "source_from_arrays",
]

BATCH_ROWS = 128 * 1024
_PARQUET_SUFFIXES = (".parquet", ".pq")
_HEAD_ROWS = 10_000
_UNNAMED_INDEX_RE = re.compile(r"__index_level_\d+__")

Array = np.ndarray[Any, Any]


@dataclass(frozen=True)
class ColumnInfo:
    """``kind``: numerical, categorical or unsupported; ``logical``: what a schema check
    compares (number, string, boolean, datetime, other); ``type``: the type as stored."""

    name: str
    kind: str
    logical: str
    type: str


@dataclass
class Counts:
    """Value counts of one column in one batch (values as strings; nulls left out)."""

    values: pa.Array
    counts: Array
    missing: int


class Batch(Protocol):
    @property
    def rows(self) -> int: ...

    def numbers(self, name: str) -> Array: ...

    def counts(self, name: str) -> Counts: ...


class Source(Protocol):
    label: str
    columns: dict[str, ColumnInfo]

    def batches(self, names: Sequence[str]) -> Iterator[Batch]: ...


def _logical(kind: str) -> str:
    return "number" if kind in ("integer", "float") else kind


def _arrow_info(name: str, dtype: pa.DataType) -> ColumnInfo:
    kind = kind_of(dtype)
    compare = {"integer": "numerical", "float": "numerical", "string": "categorical"}
    compare["boolean"] = "categorical"
    return ColumnInfo(name, compare.get(kind, "unsupported"), _logical(kind), str(dtype))


def _arrow_columns(schema: pa.Schema) -> dict[str, ColumnInfo]:
    """The columns of an Arrow schema; an unnamed pandas index stored with the data is not one."""
    names = [f.name for f in schema]
    if len(set(names)) < len(names):
        raise InvalidInputError("a table repeats a column name")
    return {
        f.name: _arrow_info(f.name, f.type)
        for f in schema
        if not _UNNAMED_INDEX_RE.fullmatch(f.name)
    }


def _label(value: Any) -> str:
    """Booleans as Arrow writes them (``true``), so pandas and Arrow inputs compare equal."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    return str(value)


class ArrowBatch:
    def __init__(self, columns: dict[str, pa.Array | pa.ChunkedArray], rows: int) -> None:
        self._columns = columns
        self._rows = rows

    @property
    def rows(self) -> int:
        return self._rows

    def numbers(self, name: str) -> Array:
        column = self._columns[name]
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        if pa.types.is_boolean(column.type):
            column = pc.cast(column, pa.int8())
        values = pc.cast(column, pa.float64(), safe=False).to_numpy(zero_copy_only=False)
        return np.asarray(values, dtype=np.float64)

    def counts(self, name: str) -> Counts:
        column = self._columns[name]
        chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
        parts = [_chunk_counts(chunk) for chunk in chunks]
        if len(parts) == 1:
            values, counts = parts[0]
        else:
            values = pa.concat_arrays([p[0] for p in parts]) if parts else pa.array([], pa.string())
            counts = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64)
        return Counts(values, counts, column.null_count)


def _chunk_counts(chunk: pa.Array) -> tuple[pa.Array, Array]:
    """A chunk's (values, counts); a dictionary chunk counts its codes, never its strings."""
    if pa.types.is_dictionary(chunk.type):
        codes = chunk.indices.drop_null() if chunk.null_count else chunk.indices
        counts = np.bincount(
            np.asarray(codes.to_numpy(zero_copy_only=False), dtype=np.int64),
            minlength=len(chunk.dictionary),
        )
        values = chunk.dictionary
        if not pa.types.is_string(values.type):
            values = pc.cast(values, pa.string())
        used = counts > 0
        return values.filter(pa.array(used)), counts[used]
    if not pa.types.is_string(chunk.type):
        chunk = pc.cast(chunk, pa.string())
    found = pc.value_counts(chunk)
    values, counts = found.field("values"), found.field("counts")
    if chunk.null_count:
        present = pc.is_valid(values)
        values, counts = values.filter(present), counts.filter(present)
    return values, np.asarray(counts.to_numpy(zero_copy_only=False), dtype=np.int64)


class ArrowSource:
    def __init__(self, table: pa.Table, label: str) -> None:
        self.label = label
        self._table = table
        self.columns = _arrow_columns(table.schema)

    def batches(self, names: Sequence[str]) -> Iterator[Batch]:
        if self._table.num_rows:
            yield ArrowBatch({n: self._table.column(n) for n in names}, self._table.num_rows)


class PandasBatch:
    def __init__(self, frame: Any) -> None:
        self._frame = frame

    @property
    def rows(self) -> int:
        return len(self._frame)

    def numbers(self, name: str) -> Array:
        series = self._frame[name]
        if series.dtype == bool:
            series = series.astype(np.int8)
        return np.asarray(series.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)

    def counts(self, name: str) -> Counts:
        series = self._frame[name]
        found = series.value_counts(dropna=True, sort=False)
        labels = [_label(v) for v in found.index]
        counts = found.to_numpy(dtype=np.int64)
        if len(set(labels)) < len(labels):  # 1 and "1" in one object column
            table = pa.table({"v": pa.array(labels, pa.string()), "c": counts})
            summed = table.group_by("v").aggregate([("c", "sum")])
            labels, counts = summed["v"].to_pylist(), summed["c_sum"].to_numpy()
        return Counts(pa.array(labels, pa.string()), counts, len(series) - int(counts.sum()))


def _pandas_info(name: str, series: Any) -> ColumnInfo:
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
        inferred = "string"
    elif pd.api.types.is_bool_dtype(dtype):
        inferred = "boolean"
    elif pd.api.types.is_numeric_dtype(dtype):
        inferred = "integer" if pd.api.types.is_integer_dtype(dtype) else "float"
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        inferred = "datetime"
    else:
        inferred = "other"
    if pd.api.types.is_object_dtype(dtype):
        # Strings are the usual answer and any value can be counted as a string; only a
        # head that looks like numbers or dates is checked over the whole column.
        found = pd.api.types.infer_dtype(series.iloc[:_HEAD_ROWS], skipna=True)
        if found != "string" and len(series) > _HEAD_ROWS:
            found = pd.api.types.infer_dtype(series, skipna=True)
        inferred = {
            "integer": "integer",
            "floating": "float",
            "mixed-integer-float": "float",
            "decimal": "float",
            "boolean": "boolean",
            "datetime": "datetime",
            "datetime64": "datetime",
            "date": "datetime",
        }.get(found, "string")
    compare = {"integer": "numerical", "float": "numerical", "string": "categorical"}
    compare["boolean"] = "categorical"
    return ColumnInfo(name, compare.get(inferred, "unsupported"), _logical(inferred), str(dtype))


class PandasSource:
    def __init__(self, frame: Any, label: str) -> None:
        self.label = label
        self._frame = frame
        names = [str(n) for n in frame.columns]
        if len(set(names)) < len(names):
            raise InvalidInputError(f"the {label} table repeats a column name")
        if names != list(frame.columns):
            frame = frame.set_axis(names, axis=1)
            self._frame = frame
        self.columns = {n: _pandas_info(n, frame[n]) for n in names}

    def batches(self, names: Sequence[str]) -> Iterator[Batch]:
        if len(self._frame):
            yield PandasBatch(self._frame)


class ParquetSource:
    """One or more Parquet files read in record batches, in the order given."""

    def __init__(self, paths: list[str], label: str) -> None:
        self.label = label
        self._paths = paths
        try:
            schema = pq.read_schema(paths[0])
        except (OSError, pa.ArrowException) as exc:
            raise InvalidInputError(f"could not read {paths[0]} as Parquet: {exc}") from None
        self.columns = _arrow_columns(schema)

    def batches(self, names: Sequence[str]) -> Iterator[Batch]:
        strings = [n for n in names if self.columns[n].logical == "string"]
        for path in self._paths:
            try:
                # Dictionary-encoded strings count by their codes: no string is materialized.
                file = pq.ParquetFile(path, read_dictionary=strings)
                missing = [n for n in names if n not in file.schema_arrow.names]
                if missing:
                    raise InvalidInputError(f"{path} has no column {missing[0]!r}")
                for batch in file.iter_batches(BATCH_ROWS, columns=list(names)):
                    if batch.num_rows:
                        yield ArrowBatch(
                            dict(zip(names, batch.columns, strict=True)), batch.num_rows
                        )
            except (OSError, pa.ArrowException) as exc:
                raise InvalidInputError(f"could not read {path} as Parquet: {exc}") from None


def _parquet_paths(value: Any) -> list[str] | None:
    items = list(value) if isinstance(value, list | tuple) else [value]
    if not items or not all(isinstance(v, str | os.PathLike) for v in items):
        return None
    paths: list[str] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            paths += sorted(str(p) for p in path.rglob("*") if p.suffix in _PARQUET_SUFFIXES)
        elif path.is_file():
            paths.append(str(path))
        else:
            raise InvalidInputError(f"no such file or folder: {path}")
    return paths


def open_source(value: Any, label: str) -> Source:
    """A source for a pandas / polars DataFrame, an Arrow table or batch, or Parquet path(s)."""
    paths = _parquet_paths(value)
    if paths is not None:
        if not paths:
            raise InvalidInputError(f"no Parquet file in the {label} folder")
        return ParquetSource(paths, label)
    if isinstance(value, pa.RecordBatch):
        value = pa.Table.from_batches([value])
    if isinstance(value, pa.Table):
        return ArrowSource(value, label)
    module = type(value).__module__.split(".")[0]
    if module == "pandas" and hasattr(value, "columns") and hasattr(value, "dtypes"):
        return PandasSource(value, label)
    if module == "polars" and hasattr(value, "to_arrow"):
        return ArrowSource(value.to_arrow(), label)
    if isinstance(value, dict) and "columns" in value:
        raise InvalidInputError(
            f"a dataset profile cannot be the {label} yet: give the table (or its Parquet files)"
        )
    raise InvalidInputError(
        f"the {label} must be a pandas / polars DataFrame, a pyarrow Table or Parquet path(s), "
        f"got {type(value).__name__}"
    )


def source_from_arrays(values: Any, name: str, label: str) -> Source:
    """Model outputs given as an array: 1-D is one column ``name``, 2-D (n, k) is k columns
    ``name[0]`` ... ``name[k-1]``."""
    array = values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim == 1:
        columns = {name: array}
    elif array.ndim == 2:
        columns = {f"{name}[{i}]": array[:, i] for i in range(array.shape[1])}
    else:
        raise InvalidInputError(f"the {label} predictions must be 1-D or 2-D, got {array.ndim}-D")
    try:
        table = pa.table({k: pa.array(v, from_pandas=True) for k, v in columns.items()})
    except (pa.ArrowException, ValueError) as exc:
        raise InvalidInputError(f"the {label} predictions cannot be read: {exc}") from None
    return ArrowSource(table, label)
