"""From two scanned columns to a :class:`ColumnDrift`: method choice, test, verdict, histogram.

The rules are documented in :mod:`shipyard.monitoring.drift_api`; the
constants here are the numbers they name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]

from shipyard.monitoring import stats
from shipyard.monitoring.drift_report import ColumnDrift, Histogram
from shipyard.monitoring.drift_scan import CategoryColumn, NumberColumn

__all__ = [
    "CELLS",
    "DEFAULT_THRESHOLDS",
    "DISCRETE_VALUES",
    "HISTOGRAM_BINS",
    "METHODS",
    "SIGNIFICANCE",
    "SMALL_SAMPLE",
    "TOP_CATEGORIES",
    "Setting",
    "compare_categories",
    "compare_numbers",
]

SMALL_SAMPLE = 1000
DISCRETE_VALUES = 20
SIGNIFICANCE = 0.05
CELLS = 10
HISTOGRAM_BINS = 20
TOP_CATEGORIES = 20
DEFAULT_THRESHOLDS = {
    "ks": 0.05,
    "chisquare": 0.05,
    "wasserstein": 0.1,
    "jensenshannon": 0.1,
    "psi": 0.2,
}
METHODS = tuple(DEFAULT_THRESHOLDS)
OTHER = "(other)"

Array = np.ndarray[Any, Any]


@dataclass(frozen=True)
class Setting:
    """What the caller chose for a column (None: the default) and the types of both sides."""

    method: str | None = None
    threshold: float | None = None
    reference_type: str = ""
    current_type: str = ""


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _number_label(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 2**53 else f"{value:g}"


def _top_histogram(labels: list[str], ref: Array, cur: Array, ordered: bool = False) -> Histogram:
    """The TOP_CATEGORIES cells with the largest combined share, the rest as ``(other)``;
    ``ordered``: the cells are values in ascending order, shown in that order."""
    weight = ref / max(ref.sum(), 1) + cur / max(cur.sum(), 1)
    order = np.argsort(-weight, kind="stable")
    top, rest = order[:TOP_CATEGORIES], order[TOP_CATEGORIES:]
    if ordered:
        top = np.sort(top)
    names = [labels[i] for i in top]
    ref_counts = [int(ref[i]) for i in top]
    cur_counts = [int(cur[i]) for i in top]
    if len(rest):
        names.append(OTHER)
        ref_counts.append(int(ref[rest].sum()))
        cur_counts.append(int(cur[rest].sum()))
    return Histogram(reference=ref_counts, current=cur_counts, labels=names)


def _distinct(values: Array) -> Array:
    """The distinct values of a sorted array, without sorting it again."""
    if not len(values):
        return values
    return values[np.concatenate(([True], values[1:] != values[:-1]))]


def _value_counts(values: Array, levels: Array) -> Array:
    """How often each of ``levels`` occurs in the sorted ``values``."""
    return np.searchsorted(values, levels, side="right") - np.searchsorted(values, levels)


def _binned(values: Array, edges: Array) -> list[int]:
    """Histogram counts of sorted values within [edges[0], edges[-1]] (last bin closed)."""
    cuts = np.searchsorted(values, edges)
    cuts[-1] = np.searchsorted(values, edges[-1], side="right")
    return [int(c) for c in np.diff(cuts)]


def _verdict(
    method: str, threshold: float, cells: tuple[Array, Array]
) -> tuple[bool, float, float, float | None]:
    """(drifted, chi-square, p-value, distance) of a method that works on cells."""
    statistic, p_value = stats.chi2_two_sample(*cells)
    if method == "chisquare":
        return p_value < threshold, statistic, p_value, None
    distance = stats.psi(*cells) if method == "psi" else stats.jensen_shannon(*cells)
    return distance > threshold and p_value < SIGNIFICANCE, statistic, p_value, distance


def compare_numbers(
    name: str, ref: NumberColumn, cur: NumberColumn, setting: Setting, sampled: bool
) -> ColumnDrift:
    base: dict[str, Any] = {
        "column": name,
        "reference_type": setting.reference_type,
        "current_type": setting.current_type,
        "reference_count": ref.count,
        "current_count": cur.count,
        "reference_missing_share": _share(ref.missing, ref.count + ref.missing),
        "current_missing_share": _share(cur.missing, cur.count + cur.missing),
        "out_of_range_count": cur.out_of_range,
        "sampled": sampled,
    }
    a, b = ref.sample(), cur.sample()
    if not len(a) or not len(b):
        side = "reference" if not len(a) else "current"
        note = f"no finite values in the {side}: not tested"
        return ColumnDrift(kind="numerical", method=None, drifted=False, note=note, **base)
    distinct = 1 + int(np.count_nonzero(a[1:] != a[:-1]))  # a is sorted
    discrete = distinct <= DISCRETE_VALUES and distinct <= len(a) // 2
    small = min(ref.finite, cur.finite) <= SMALL_SAMPLE
    method = setting.method or (
        ("chisquare" if small else "jensenshannon")
        if discrete
        else ("ks" if small else "wasserstein")
    )
    threshold = DEFAULT_THRESHOLDS[method] if setting.threshold is None else setting.threshold
    kind = "discrete" if discrete else "numerical"
    histogram: Histogram
    if discrete:
        both = np.union1d(_distinct(a), _distinct(b))
        ref_cells, cur_cells = _value_counts(a, both), _value_counts(b, both)
        labels = [_number_label(v) for v in both]
        new = (ref_cells == 0) & (cur_cells > 0)
        base["new_count"] = int(cur_cells[new].sum())
        base["new_categories"] = [labels[i] for i in np.flatnonzero(new)[:TOP_CATEGORIES]]
        histogram = _top_histogram(labels, ref_cells, cur_cells, ordered=True)
    else:
        low, high = min(a[0], b[0]), max(a[-1], b[-1])
        if low == high:
            edges = np.array([low, high])
            histogram = Histogram([len(a)], [len(b)], edges=edges.tolist())
        else:
            edges = np.linspace(low, high, HISTOGRAM_BINS + 1)
            histogram = Histogram(_binned(a, edges), _binned(b, edges), edges=edges.tolist())
    statistic: float
    distance: float | None = None
    if method in ("ks", "wasserstein"):
        if method == "ks" and small:
            statistic, p_value = stats.ks_test(a, b)
        else:
            statistic, p_value, wasserstein = stats.ks_wasserstein(a, b)
            if small:  # the exact p-value
                statistic, p_value = stats.ks_test(a, b)
        if method == "ks":
            drifted = p_value < threshold
        else:
            scale = ref.std or abs(ref.mean) or 1.0  # a constant reference: its own size
            distance = wasserstein / scale
            drifted = distance > threshold and p_value < SIGNIFICANCE
    else:
        cells = (ref_cells, cur_cells) if discrete else stats.quantile_cells(a, b, CELLS)
        drifted, statistic, p_value, distance = _verdict(method, threshold, cells)
    return ColumnDrift(
        kind=kind,
        method=method,
        drifted=bool(drifted),
        statistic=statistic,
        p_value=p_value,
        distance=distance,
        threshold=threshold,
        histogram=histogram,
        **base,
    )


def _aligned(ref: CategoryColumn, cur: CategoryColumn) -> tuple[list[str], Array, Array]:
    """Labels and both tables' counts on the union of their categories."""
    ref_values, ref_counts = ref.merged()
    cur_values, cur_counts = cur.merged()
    encoded = pa.concat_arrays([ref_values, cur_values]).dictionary_encode()
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    size = len(encoded.dictionary)
    r = np.bincount(codes[: len(ref_values)], weights=ref_counts, minlength=size)
    c = np.bincount(codes[len(ref_values) :], weights=cur_counts, minlength=size)
    labels = [str(v) for v in encoded.dictionary.to_pylist()]
    if ref.other or cur.other:
        labels.append(OTHER)
        r, c = np.append(r, ref.other), np.append(c, cur.other)
    return labels, r.astype(np.int64), c.astype(np.int64)


def compare_categories(
    name: str, ref: CategoryColumn, cur: CategoryColumn, setting: Setting
) -> ColumnDrift:
    labels, r, c = _aligned(ref, cur)
    ref_count, cur_count = int(r.sum()), int(c.sum())
    new = (r == 0) & (c > 0)
    newest = np.flatnonzero(new)[np.argsort(-c[new], kind="stable")][:TOP_CATEGORIES]
    base: dict[str, Any] = {
        "column": name,
        "kind": "categorical",
        "reference_type": setting.reference_type,
        "current_type": setting.current_type,
        "reference_count": ref_count,
        "current_count": cur_count,
        "reference_missing_share": _share(ref.missing, ref_count + ref.missing),
        "current_missing_share": _share(cur.missing, cur_count + cur.missing),
        "new_count": int(c[new].sum()),
        "new_categories": [labels[i] for i in newest],
    }
    if not ref_count or not cur_count:
        side = "reference" if not ref_count else "current"
        return ColumnDrift(method=None, drifted=False, note=f"no values in the {side}", **base)
    small = min(ref_count, cur_count) <= SMALL_SAMPLE
    method = setting.method or ("chisquare" if small else "jensenshannon")
    threshold = DEFAULT_THRESHOLDS[method] if setting.threshold is None else setting.threshold
    drifted, statistic, p_value, distance = _verdict(method, threshold, (r, c))
    return ColumnDrift(
        method=method,
        drifted=bool(drifted),
        statistic=statistic,
        p_value=p_value,
        distance=distance,
        threshold=threshold,
        histogram=_top_histogram(labels, r, c),
        **base,
    )
