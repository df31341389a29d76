"""The two-sample tests and distances behind :func:`shipyard.monitoring.drift`.

Each function compares a reference sample with a current one and knows
nothing about tables. Counts are aligned arrays (one cell per category or
bin, the same cell order on both sides).

- :func:`ks_test`: Kolmogorov-Smirnov, SciPy's ``ks_2samp`` (exact p-values
  for small samples, Smirnov's asymptotic distribution for large ones).
- :func:`ks_wasserstein`: the KS statistic, its asymptotic p-value and the
  Wasserstein-1 distance from two *sorted* samples in one merge, for the
  large samples where the same sort serves both.
- :func:`chi2_two_sample`: Pearson's chi-square test of homogeneity on the
  2 x k contingency table of both samples (``scipy.stats.chi2_contingency``,
  no continuity correction). Cells whose expected count in the smaller sample
  is under :data:`MIN_EXPECTED` are pooled first (Cochran's rule), which keeps
  the test's false-alarm rate at its nominal level on sparse categories.
- :func:`jensen_shannon` and :func:`psi`: distances between the two
  distributions of shares.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from scipy import special, stats

__all__ = [
    "MIN_EXPECTED",
    "PSI_EPSILON",
    "chi2_two_sample",
    "jensen_shannon",
    "ks_test",
    "ks_wasserstein",
    "psi",
    "quantile_cells",
]

Array = np.ndarray[Any, Any]

MIN_EXPECTED = 5.0
# Empty cells get this share in PSI, as Evidently and most PSI write-ups do: log(0) is undefined.
PSI_EPSILON = 1e-4


def ks_test(reference: Array, current: Array) -> tuple[float, float]:
    """(D, p-value) of the two-sided two-sample KS test."""
    with warnings.catch_warnings():
        # On tied values SciPy's exact method may give up and fall back to the asymptotic
        # one, with a warning the caller cannot act on.
        warnings.filterwarnings("ignore", "ks_2samp: Exact calculation", RuntimeWarning)
        result = stats.ks_2samp(reference, current)
    return float(result.statistic), float(result.pvalue)


def ks_wasserstein(reference: Array, current: Array) -> tuple[float, float, float]:
    """(D, asymptotic p-value, Wasserstein-1 distance) of two sorted samples."""
    n, m = len(reference), len(current)
    merged = np.sort(np.concatenate([reference, current]), kind="stable")
    ref_cdf = np.searchsorted(reference, merged, side="right") / n
    cur_cdf = np.searchsorted(current, merged, side="right") / m
    gap = np.abs(ref_cdf - cur_cdf)
    d = float(gap.max()) if len(gap) else 0.0
    distance = float(np.dot(gap[:-1], np.diff(merged))) if len(merged) > 1 else 0.0
    return d, _ks_p_value(d, n * m / (n + m)), distance


def _ks_p_value(d: float, effective: float) -> float:
    """Kolmogorov's limiting distribution with Stephens' correction. Where the large-sample
    path uses it (effective sizes of 500 and up) it agrees with SciPy's finite-n
    Kolmogorov sf within 1e-4 near p = 0.05 and 3e-3 anywhere, at a fraction of its cost
    (~20 ms a call at n = 10,000)."""
    if effective <= 0:
        return 1.0
    root = math.sqrt(effective)
    p_value = float(stats.kstwobign.sf((root + 0.12 + 0.11 / root) * d))
    return min(max(p_value, 0.0), 1.0)


def _pool_rare(reference: Array, current: Array) -> tuple[Array, Array]:
    """Merge the cells whose expected count in the smaller sample is under MIN_EXPECTED."""
    n, m = reference.sum(), current.sum()
    expected = (reference + current) * (min(n, m) / (n + m))
    rare = expected < MIN_EXPECTED
    if not rare.any():
        return reference, current
    ref = np.append(reference[~rare], reference[rare].sum())
    cur = np.append(current[~rare], current[rare].sum())
    if expected[rare].sum() < MIN_EXPECTED and len(ref) > 2:
        # the pooled cell is still too small: fold it into the smallest regular cell
        smallest = int(np.argmin(ref[:-1] + cur[:-1]))
        ref[smallest] += ref[-1]
        cur[smallest] += cur[-1]
        ref, cur = ref[:-1], cur[:-1]
    return ref, cur


def chi2_two_sample(reference: Array, current: Array) -> tuple[float, float]:
    """(chi-square, p-value) of the homogeneity test of two count vectors.

    Fewer than two usable cells (one category on both sides, or an empty
    sample) is no evidence of a difference: ``(0.0, 1.0)``.
    """
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    used = (ref + cur) > 0
    ref, cur = ref[used], cur[used]
    if len(ref) < 2 or ref.sum() == 0 or cur.sum() == 0:
        return 0.0, 1.0
    ref, cur = _pool_rare(ref, cur)
    if len(ref) < 2:
        return 0.0, 1.0
    result = stats.chi2_contingency(np.vstack([ref, cur]), correction=False)
    return float(result.statistic), float(result.pvalue)


def _shares(counts: Array) -> Array:
    total = float(np.sum(counts))
    return np.asarray(counts, dtype=np.float64) / total if total else np.zeros(len(counts))


def jensen_shannon(reference: Array, current: Array) -> float:
    """Jensen-Shannon distance (square root of the divergence, natural log: 0 to ~0.83)."""
    p, q = _shares(reference), _shares(current)
    middle = (p + q) / 2
    divergence = (special.rel_entr(p, middle).sum() + special.rel_entr(q, middle).sum()) / 2
    return math.sqrt(max(float(divergence), 0.0))


def psi(reference: Array, current: Array) -> float:
    """Population stability index: sum of (cur - ref) * ln(cur / ref) over the cells' shares."""
    p = np.maximum(_shares(reference), PSI_EPSILON)
    q = np.maximum(_shares(current), PSI_EPSILON)
    return float(np.sum((q - p) * np.log(q / p)))


def quantile_cells(reference: Array, current: Array, cells: int) -> tuple[Array, Array]:
    """Counts of both samples in ``cells`` bins cut at the reference's quantiles.

    The outer bins are open, so current values beyond the reference's range
    land in the first or last bin; ties in the reference merge bins.
    """
    inner = np.unique(np.quantile(reference, np.linspace(0, 1, cells + 1)[1:-1]))
    size = len(inner) + 1
    ref = np.bincount(np.searchsorted(inner, reference, side="right"), minlength=size)
    cur = np.bincount(np.searchsorted(inner, current, side="right"), minlength=size)
    return ref, cur
