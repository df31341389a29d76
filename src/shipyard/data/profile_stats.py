"""Per-column accumulators of a table profile, fed one Arrow batch at a time.

Counts, missing values, min / max / mean / std and category counts are exact
over every row. Quantiles and histograms come from :class:`RowSample`, a
uniform sample of at most :data:`SAMPLE_ROWS` rows (bottom-k of a random key
per row, seeded, so the same table always gives the same profile); a table
with at most that many rows is profiled exactly. Histogram edges always span
the exact min and max.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

__all__ = [
    "HISTOGRAM_BINS",
    "MAX_TRACKED_VALUES",
    "MAX_VALUE_CHARS",
    "QUANTILES",
    "SAMPLE_ROWS",
    "TOP_CATEGORIES",
    "ColumnStats",
    "RowSample",
    "column_stats",
    "kind_of",
]

SAMPLE_ROWS = 100_000
HISTOGRAM_BINS = 20
TOP_CATEGORIES = 20
MAX_TRACKED_VALUES = 100_000  # distinct values counted exactly per column
MAX_VALUE_CHARS = 100  # longer category values are cut in the profile
QUANTILES = {
    "p01": 0.01,
    "p05": 0.05,
    "p25": 0.25,
    "p50": 0.5,
    "p75": 0.75,
    "p95": 0.95,
    "p99": 0.99,
}
_SEED = 20240611


def finite(value: float | int | None) -> float | int | None:
    """A JSON-safe number: NaN and infinity become None, numpy scalars plain Python."""
    if value is None:
        return None
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value)
    number = float(value)
    return number if math.isfinite(number) else None


def kind_of(dtype: pa.DataType) -> str:
    """The logical type: integer, float, boolean, string, datetime or other."""
    if pa.types.is_dictionary(dtype):
        return kind_of(dtype.value_type)
    if pa.types.is_boolean(dtype):
        return "boolean"
    if pa.types.is_integer(dtype):
        return "integer"
    if pa.types.is_floating(dtype) or pa.types.is_decimal(dtype):
        return "float"
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "string"
    if pa.types.is_string_view(dtype):
        return "string"
    if pa.types.is_timestamp(dtype) or pa.types.is_date(dtype):
        return "datetime"
    return "other"


class RowSample:
    """A uniform sample of rows (bottom-k of random keys), kept for the numeric columns."""

    def __init__(self, columns: list[str], size: int | None = None) -> None:
        self.size = SAMPLE_ROWS if size is None else size
        self._rng = np.random.default_rng(_SEED)
        self._keys = np.empty(0)
        self._values: dict[str, list[np.ndarray[Any, Any]]] = {c: [] for c in columns}
        self._threshold = math.inf

    def choose(self, rows: int) -> np.ndarray[Any, Any]:
        """Indices of the batch's rows that enter the sample (call :meth:`add` next)."""
        keys = self._rng.random(rows)
        chosen = np.flatnonzero(keys < self._threshold)
        self._keys = np.concatenate([self._keys, keys[chosen]])
        return chosen

    def add(self, column: str, values: np.ndarray[Any, Any]) -> None:
        self._values[column].append(values)

    def shrink(self) -> None:
        """Drop all but the ``size`` smallest keys (after every column of a batch was added)."""
        if len(self._keys) <= self.size:
            return
        keep = np.argpartition(self._keys, self.size - 1)[: self.size]
        self._keys = self._keys[keep]
        self._threshold = float(self._keys.max())
        for column, parts in self._values.items():
            self._values[column] = [np.concatenate(parts)[keep]] if parts else []

    def values(self, column: str) -> np.ndarray[Any, Any]:
        parts = self._values.get(column) or [np.empty(0)]
        return np.concatenate(parts)

    @property
    def rows(self) -> int:
        return len(self._keys)


class ColumnStats:
    """Type and missing values: all a column of an unsupported type gets."""

    def __init__(self, name: str, dtype: pa.DataType) -> None:
        self.name = name
        self.dtype = dtype
        self.kind = kind_of(dtype)
        self.missing = 0

    def update(self, array: pa.Array, chosen: np.ndarray[Any, Any], sample: RowSample) -> None:
        self.missing += array.null_count

    def result(self, rows: int, sample: RowSample) -> dict[str, Any]:
        return {
            "type": str(self.dtype),
            "kind": self.kind,
            "count": rows - self.missing,
            "missing_count": self.missing,
            "missing_share": finite(self.missing / rows) if rows else None,
        }


class NumberStats(ColumnStats):
    """Exact count / min / max / mean / std over finite values (Chan's parallel merge)."""

    def __init__(self, name: str, dtype: pa.DataType) -> None:
        super().__init__(name, dtype)
        self.infinite = 0
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.low: float | int | None = None
        self.high: float | int | None = None

    def update(self, array: pa.Array, chosen: np.ndarray[Any, Any], sample: RowSample) -> None:
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        values = np.asarray(
            pc.cast(array, pa.float64(), safe=False).to_numpy(zero_copy_only=False),
            dtype=np.float64,
        )
        sample.add(self.name, values[chosen])
        nan = np.isnan(values)
        self.missing += int(nan.sum())  # nulls arrive as NaN
        good = values[np.isfinite(values)]
        self.infinite += len(values) - int(nan.sum()) - len(good)
        if not len(good):
            return
        if self.kind == "integer":
            bounds = pc.min_max(array)  # exact, beyond float precision too
            low, high = bounds["min"].as_py(), bounds["max"].as_py()
        else:
            low, high = float(good.min()), float(good.max())
        self.low = low if self.low is None else min(self.low, low)
        self.high = high if self.high is None else max(self.high, high)
        n, mean = len(good), float(good.mean())
        m2 = float(np.square(good - mean).sum())
        total = self.n + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += m2 + delta * delta * self.n * n / total
        self.n = total

    def result(self, rows: int, sample: RowSample) -> dict[str, Any]:
        out = super().result(rows, sample)
        out["infinite_count"] = self.infinite
        if self.low is None or self.high is None:
            return out
        values = sample.values(self.name)
        values = values[np.isfinite(values)]
        out["min"] = finite(self.low)
        out["max"] = finite(self.high)
        out["mean"] = finite(self.mean)
        out["std"] = finite(math.sqrt(self.m2 / (self.n - 1))) if self.n > 1 else None
        if len(values):
            marks = np.quantile(values, list(QUANTILES.values()))
            out["quantiles"] = {k: finite(v) for k, v in zip(QUANTILES, marks, strict=True)}
            edges = histogram_edges(float(self.low), float(self.high), self.kind == "integer")
            counts = (
                [len(values)]
                if len(edges) == 2 and edges[0] == edges[1]
                else np.histogram(values, bins=edges)[0].tolist()
            )
            out["histogram"] = {"edges": [finite(e) for e in edges], "counts": counts}
        return out


def histogram_edges(low: float, high: float, integer: bool) -> list[float]:
    """Bin edges over [low, high]: one bin per value for a small integer range, one
    degenerate bin ``[v, v]`` for a constant column, else equal widths."""
    if low == high:
        return [low, high]
    if integer and high - low < HISTOGRAM_BINS:
        return [low - 0.5 + i for i in range(int(high - low) + 2)]
    step = high / HISTOGRAM_BINS - low / HISTOGRAM_BINS  # no overflow near the float limits
    edges = [low + step * i for i in range(HISTOGRAM_BINS)]
    return [*edges, high]


class CategoryStats(ColumnStats):
    """Exact value counts while at most :data:`MAX_TRACKED_VALUES` distinct values are seen;
    past that, the rarest are dropped (the top counts stay close, ``distinct_exact`` turns
    false and ``distinct`` becomes a lower bound)."""

    def __init__(self, name: str, dtype: pa.DataType) -> None:
        super().__init__(name, dtype)
        self.values: list[pa.Array] = []
        self.counts: list[np.ndarray[Any, Any]] = []
        self.pending = 0
        self.exact = True

    def update(self, array: pa.Array, chosen: np.ndarray[Any, Any], sample: RowSample) -> None:
        self.missing += array.null_count
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        if self.kind == "boolean":
            array = pc.cast(array, pa.string())
        found = pc.value_counts(array.drop_null())
        self.values.append(found.field("values"))
        self.counts.append(found.field("counts").to_numpy())
        self.pending += len(found)
        if self.pending > 2 * MAX_TRACKED_VALUES:
            self._merge()

    def _merge(self) -> pa.Table:
        """Sum the counts of equal values (faster than a group-by on strings)."""
        if not self.values:
            return pa.table({"v": pa.array([], pa.string()), "c": pa.array([], pa.int64())})
        encoded = pc.dictionary_encode(pa.concat_arrays(self.values))
        sums = np.bincount(
            encoded.indices.to_numpy(zero_copy_only=False),
            weights=np.concatenate(self.counts),
            minlength=len(encoded.dictionary),
        ).astype(np.int64)
        merged = pa.table({"v": encoded.dictionary, "c": sums})
        if len(merged) > MAX_TRACKED_VALUES:
            self.exact = False
            order = pc.sort_indices(merged, [("c", "descending"), ("v", "ascending")])
            merged = merged.take(order[: MAX_TRACKED_VALUES // 2])
        self.values = [merged["v"].combine_chunks()]
        self.counts = [merged["c"].to_numpy()]
        self.pending = len(merged)
        return merged

    def result(self, rows: int, sample: RowSample) -> dict[str, Any]:
        out = super().result(rows, sample)
        merged = self._merge()
        order = pc.sort_indices(merged, [("c", "descending"), ("v", "ascending")])
        top = merged.take(order[:TOP_CATEGORIES]).to_pylist()
        out["distinct"] = len(merged)
        out["distinct_exact"] = self.exact
        out["top"] = [{"value": _cut(str(t["v"])), "count": int(t["c"])} for t in top]
        out["other_count"] = out["count"] - sum(t["count"] for t in out["top"])
        if self.kind == "boolean" and out["count"]:
            trues = next((t["count"] for t in out["top"] if t["value"] == "true"), 0)
            out["mean"] = trues / out["count"]
        return out


def _cut(value: str) -> str:
    return value if len(value) <= MAX_VALUE_CHARS else value[: MAX_VALUE_CHARS - 1] + "…"


class TimeStats(ColumnStats):
    """Exact earliest and latest value, as ISO-like strings."""

    def __init__(self, name: str, dtype: pa.DataType) -> None:
        super().__init__(name, dtype)
        self.bounds: list[Any] = []

    def update(self, array: pa.Array, chosen: np.ndarray[Any, Any], sample: RowSample) -> None:
        self.missing += array.null_count
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        if array.null_count < len(array):
            found = pc.min_max(array)
            self.bounds += [found["min"], found["max"]]

    def result(self, rows: int, sample: RowSample) -> dict[str, Any]:
        out = super().result(rows, sample)
        if self.bounds:
            value_type = self.dtype.value_type if pa.types.is_dictionary(self.dtype) else self.dtype
            seen = pc.min_max(pa.array(self.bounds, type=value_type))
            out["min"] = str(pc.cast(seen["min"], pa.string()))
            out["max"] = str(pc.cast(seen["max"], pa.string()))
        return out


def column_stats(name: str, dtype: pa.DataType) -> ColumnStats:
    kind = kind_of(dtype)
    if kind in ("integer", "float"):
        return NumberStats(name, dtype)
    if kind in ("string", "boolean"):
        return CategoryStats(name, dtype)
    if kind == "datetime":
        return TimeStats(name, dtype)
    return ColumnStats(name, dtype)
