"""The tests and distances checked against SciPy and hand-worked values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from shipyard.monitoring import stats as drift_stats
from shipyard.monitoring.drift_scan import RowSampler


def test_ks_and_wasserstein_from_sorted_samples_match_scipy() -> None:
    rng = np.random.default_rng(0)
    for n, m in ((2000, 3000), (20_000, 15_000), (50_000, 50_000)):
        a, b = np.sort(rng.normal(0, 1, n)), np.sort(rng.normal(0.02, 1.1, m))
        d, p, w = drift_stats.ks_wasserstein(a, b)
        expected = stats.ks_2samp(a, b, method="asymp")
        assert d == pytest.approx(expected.statistic, abs=1e-12)
        assert p == pytest.approx(expected.pvalue, abs=2e-3)
        assert w == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9)


def test_ks_and_wasserstein_with_ties() -> None:
    a = np.sort(np.array([1.0, 1.0, 2.0, 2.0, 3.0] * 300))
    b = np.sort(np.array([1.0, 2.0, 2.0, 3.0, 3.0] * 300))
    d, _, w = drift_stats.ks_wasserstein(a, b)
    assert d == pytest.approx(stats.ks_2samp(a, b).statistic)
    assert w == pytest.approx(stats.wasserstein_distance(a, b))


def test_chi_square_is_scipys_contingency_test_without_correction() -> None:
    ref, cur = np.array([40, 30, 20, 10]), np.array([25, 30, 25, 20])
    statistic, p = drift_stats.chi2_two_sample(ref, cur)
    expected = stats.chi2_contingency(np.vstack([ref, cur]), correction=False)
    assert (statistic, p) == pytest.approx((expected.statistic, expected.pvalue))
    # two cells: the plain two-proportion z-test, squared
    statistic, p = drift_stats.chi2_two_sample(np.array([30, 70]), np.array([45, 55]))
    pooled = 75 / 200
    z = (0.45 - 0.30) / math.sqrt(pooled * (1 - pooled) * (1 / 100 + 1 / 100))
    assert statistic == pytest.approx(z * z)


def test_chi_square_pools_cells_expected_under_five() -> None:
    ref = np.array([50, 40, 2, 1, 1, 2])
    cur = np.array([45, 45, 1, 2, 1, 3])
    statistic, p = drift_stats.chi2_two_sample(ref, cur)
    pooled = stats.chi2_contingency(np.array([[50, 40, 6], [45, 45, 7]]), correction=False)
    assert (statistic, p) == pytest.approx((pooled.statistic, pooled.pvalue))
    # a pooled cell still expected under five joins the smallest regular cell
    statistic, p = drift_stats.chi2_two_sample(np.array([50, 40, 30, 1]), np.array([45, 45, 30, 2]))
    folded = stats.chi2_contingency(np.array([[50, 40, 31], [45, 45, 32]]), correction=False)
    assert (statistic, p) == pytest.approx((folded.statistic, folded.pvalue))


def test_chi_square_without_two_cells_is_no_evidence() -> None:
    assert drift_stats.chi2_two_sample(np.array([10]), np.array([7])) == (0.0, 1.0)
    assert drift_stats.chi2_two_sample(np.array([3, 0]), np.array([0, 0])) == (0.0, 1.0)
    # every value unique (an id column): all cells rare, nothing to test
    ones = np.ones(100)
    assert drift_stats.chi2_two_sample(np.r_[ones, 0 * ones], np.r_[0 * ones, ones])[1] == 1.0


def test_jensen_shannon_is_scipys_distance() -> None:
    ref, cur = np.array([10, 20, 30, 0]), np.array([5, 25, 25, 5])
    assert drift_stats.jensen_shannon(ref, cur) == pytest.approx(distance.jensenshannon(ref, cur))
    assert drift_stats.jensen_shannon(ref, ref) == 0.0
    assert drift_stats.jensen_shannon(np.array([1, 0]), np.array([0, 1])) == pytest.approx(
        math.sqrt(math.log(2))
    )


def test_psi_by_hand() -> None:
    value = drift_stats.psi(np.array([50, 50]), np.array([40, 60]))
    assert value == pytest.approx(-0.1 * math.log(0.8) + 0.1 * math.log(1.2))
    # an empty cell counts as PSI_EPSILON, not as infinity
    assert math.isfinite(drift_stats.psi(np.array([10, 0]), np.array([5, 5])))


def test_quantile_cells_cut_at_the_reference_deciles() -> None:
    reference = np.arange(1000.0)
    ref, cur = drift_stats.quantile_cells(reference, np.array([-5.0, 50.0, 2000.0]), 10)
    assert ref.tolist() == [100] * 10
    assert cur.tolist() == [2, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    ref, _ = drift_stats.quantile_cells(np.array([1.0] * 50 + [2.0] * 50), reference, 10)
    assert ref.sum() == 100 and len(ref) <= 4 and np.count_nonzero(ref) == 2  # ties merge


def test_row_sampler_keeps_the_same_rows_however_the_table_is_cut() -> None:
    size, rows = 1000, 25_000
    whole = RowSampler(size, seed=9)
    _, chosen = whole.select(rows)
    cut = RowSampler(size, seed=9)
    kept = np.empty(0, dtype=np.int64)
    start = 0
    for batch in (7000, 1, 9999, 8000):
        old, new = cut.select(batch)
        kept = np.concatenate([kept if old is None else kept[old], new + start])
        start += batch
    assert sorted(kept.tolist()) == sorted(chosen.tolist())
    assert len(kept) == size


def test_row_sampler_takes_every_row_while_they_fit() -> None:
    sampler = RowSampler(100, seed=1)
    assert sampler.select(60) == (None, pytest.approx(np.arange(60)))
    old, new = sampler.select(60)
    assert old is not None and len(old) + len(new) == 100
