"""One pass over a table: what the drift tests need of each column, in bounded memory.

- Numerical columns: exact counts (values, missing, out of the reference's
  range), exact min / max / mean / std, and a uniform sample of at most
  :data:`SAMPLE_SIZE` rows. A table with at most that many rows is kept
  whole, so the small-sample tests are exact; beyond it the tests and
  distances work from the sample, which is an i.i.d. draw of the table's
  rows, so a test on it keeps its false-alarm rate (it only loses the power
  that rows beyond 100,000 would add, which a distance threshold does not
  need). The sample is a bottom-k of one random key per row, shared by all
  columns of a table and seeded, so the same tables give the same report.
- Categorical columns: exact value counts while at most
  :data:`MAX_CATEGORIES` distinct values are seen; past that the rarest are
  folded into one ``other`` count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]

from shipyard.monitoring.drift_sources import Counts, Source

__all__ = [
    "MAX_CATEGORIES",
    "SAMPLE_SIZE",
    "CategoryColumn",
    "NumberColumn",
    "RowSampler",
    "TableScan",
    "scan",
]

SAMPLE_SIZE = 100_000
MAX_CATEGORIES = 100_000

Array = np.ndarray[Any, Any]


class RowSampler:
    """Bottom-k sampling over batches: each row gets a random key, the k smallest stay."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self._rng = np.random.default_rng(seed)
        self._keys = np.empty(0)

    def select(self, rows: int) -> tuple[Array | None, Array]:
        """(positions of the sample that stay, or None for all; rows of the batch to add)."""
        keys = self._rng.random(rows)
        if len(self._keys) + rows <= self.size:
            self._keys = np.concatenate([self._keys, keys])
            return None, np.arange(rows)
        if len(self._keys) >= self.size:
            candidates = np.flatnonzero(keys < self._keys.max())
        else:
            candidates = np.arange(rows)
        merged = np.concatenate([self._keys, keys[candidates]])
        keep = np.sort(np.argpartition(merged, self.size - 1)[: self.size])
        old = len(self._keys)
        self._keys = merged[keep]
        return keep[keep < old], candidates[keep[keep >= old] - old]


@dataclass
class NumberColumn:
    count: int = 0  # non-missing values, infinities included
    missing: int = 0
    finite: int = 0
    low: float = math.inf
    high: float = -math.inf
    mean: float = 0.0
    m2: float = 0.0
    out_of_range: int = 0  # current only: values outside the reference's [min, max]
    negative_infinity: bool = False
    positive_infinity: bool = False
    parts: list[Array] = field(default_factory=list)

    def update(
        self, values: Array, old: Array | None, new: Array, bounds: tuple[float, float] | None
    ) -> None:
        nan = np.isnan(values)
        missing = int(np.count_nonzero(nan))
        self.missing += missing
        self.count += len(values) - missing
        if bounds is not None:
            self.out_of_range += int(np.count_nonzero((values < bounds[0]) | (values > bounds[1])))
        good = values if missing == 0 else values[~nan]
        isfinite = np.isfinite(good)
        if not isfinite.all():
            infinite = good[~isfinite]
            self.negative_infinity = self.negative_infinity or bool((infinite < 0).any())
            self.positive_infinity = self.positive_infinity or bool((infinite > 0).any())
            good = good[isfinite]
        if len(good):
            self.low = min(self.low, float(good.min()))
            self.high = max(self.high, float(good.max()))
            n, mean = len(good), float(good.mean())
            m2 = float(np.square(good - mean).sum())
            total = self.finite + n
            delta = mean - self.mean
            self.mean += delta * n / total
            self.m2 += m2 + delta * delta * self.finite * n / total
            self.finite = total
        if old is not None:
            sample = np.concatenate(self.parts) if self.parts else np.empty(0)
            self.parts = [sample[old]]
        self.parts.append(values[new])

    @property
    def bounds(self) -> tuple[float, float]:
        """The range of the values, infinities included when there were some."""
        low = -math.inf if self.negative_infinity else self.low
        return low, math.inf if self.positive_infinity else self.high

    @property
    def std(self) -> float:
        return math.sqrt(self.m2 / (self.finite - 1)) if self.finite > 1 else 0.0

    def sample(self) -> Array:
        """The sampled finite values, sorted."""
        values = np.concatenate(self.parts) if self.parts else np.empty(0)
        return np.sort(values[np.isfinite(values)])


@dataclass
class CategoryColumn:
    missing: int = 0
    other: int = 0  # rows of values dropped past MAX_CATEGORIES
    values: list[pa.Array] = field(default_factory=list)
    counts: list[Array] = field(default_factory=list)
    pending: int = 0

    def update(self, found: Counts) -> None:
        self.missing += found.missing
        self.values.append(found.values)
        self.counts.append(found.counts)
        self.pending += len(found.values)
        if self.pending > 2 * MAX_CATEGORIES:
            self.merged()

    def merged(self) -> tuple[pa.Array, Array]:
        """Distinct values and their counts (equal values summed)."""
        if not self.values:
            return pa.array([], pa.string()), np.zeros(0, np.int64)
        if len(self.values) > 1:
            encoded = pa.concat_arrays(self.values).dictionary_encode()
            sums = np.bincount(
                np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64),
                weights=np.concatenate(self.counts),
                minlength=len(encoded.dictionary),
            ).astype(np.int64)
            values, counts = encoded.dictionary, sums
            if len(counts) > MAX_CATEGORIES:
                keep = np.argsort(-counts, kind="stable")[: MAX_CATEGORIES // 2]
                self.other += int(counts.sum() - counts[keep].sum())
                values, counts = values.take(pa.array(keep)), counts[keep]
            self.values, self.counts = [values], [counts]
            self.pending = len(counts)
        return self.values[0], self.counts[0]

    @property
    def count(self) -> int:
        return int(sum(int(c.sum()) for c in self.counts)) + self.other


@dataclass
class TableScan:
    rows: int
    numbers: dict[str, NumberColumn]
    categories: dict[str, CategoryColumn]
    sample_rows: int

    @property
    def sampled(self) -> bool:
        return self.sample_rows < self.rows


def scan(
    source: Source,
    numbers: Sequence[str],
    categories: Sequence[str],
    *,
    seed: int,
    bounds: dict[str, tuple[float, float]] | None = None,
    sample_size: int = SAMPLE_SIZE,
) -> TableScan:
    """Read the table once; ``bounds`` (the reference's ranges) count out-of-range values."""
    result = TableScan(0, {n: NumberColumn() for n in numbers}, {}, 0)
    result.categories = {n: CategoryColumn() for n in categories}
    sampler = RowSampler(sample_size, seed)
    names = list(dict.fromkeys([*numbers, *categories]))
    for batch in source.batches(names):
        result.rows += batch.rows
        old, new = sampler.select(batch.rows) if numbers else (None, np.empty(0, np.int64))
        for name in numbers:
            limits = bounds.get(name) if bounds else None
            result.numbers[name].update(batch.numbers(name), old, new, limits)
        for name in categories:
            result.categories[name].update(batch.counts(name))
    result.sample_rows = min(result.rows, sample_size) if numbers else result.rows
    return result
