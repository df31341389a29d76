"""False alarms at the nominal rate, and power on shifted data.

Each trial is one column: a table of many independent columns drawn from the
same distribution gives hundreds of trials in one ``drift()`` call. With the
seeds fixed the counts are reproducible; the bounds are what a calibrated
test passes with probability 0.999 (two-sided binomial), so they also hold
for other seeds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from shipyard.monitoring import DriftReport, drift

TRIALS = 400
NOMINAL = 0.05
Draw = Callable[[np.random.Generator, int], Any]


def _table(draw: Draw, rows: int, columns: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({f"c{i}": draw(rng, rows) for i in range(columns)})


def _trials(
    ref_draw: Draw,
    cur_draw: Draw | None = None,
    rows: int = 300,
    cur_rows: int | None = None,
    columns: int = TRIALS,
    seed: int = 1,
    **options: Any,
) -> DriftReport:
    reference = _table(ref_draw, rows, columns, seed)
    current = _table(cur_draw or ref_draw, cur_rows or rows, columns, seed + 1000)
    return drift(reference, current, **options)


def _assert_calibrated(report: DriftReport, nominal: float = NOMINAL) -> None:
    trials = len(report.columns)
    alarms = len(report.drifted_columns)
    low = stats.binom.ppf(0.0005, trials, nominal)
    high = stats.binom.ppf(0.9995, trials, nominal)
    assert low <= alarms <= high, f"{alarms} false alarms in {trials} trials"


def _normal(rng: np.random.Generator, n: int) -> Any:
    return rng.normal(0.0, 1.0, n)


def _shifted(shift: float) -> Draw:
    return lambda rng, n: rng.normal(shift, 1.0, n)


LEVELS = np.array(["a", "b", "c", "d", "e"], dtype=object)


def _categories(rng: np.random.Generator, n: int) -> Any:
    return rng.choice(LEVELS, n, p=[0.4, 0.3, 0.15, 0.1, 0.05])


def _sparse(rng: np.random.Generator, n: int) -> Any:
    # 30 categories with geometric shares: most cells expect fewer than 5 rows
    weights = 0.8 ** np.arange(30)
    return rng.choice(
        np.array([f"v{i}" for i in range(30)], dtype=object), n, p=weights / weights.sum()
    )


def _poisson(rng: np.random.Generator, n: int) -> Any:
    return rng.poisson(1.5, n)


def test_ks_on_continuous_numbers_alarms_at_the_nominal_rate() -> None:
    report = _trials(_normal)
    assert {c.method for c in report.columns} == {"ks"}
    assert {c.kind for c in report.columns} == {"numerical"}
    _assert_calibrated(report)


def test_ks_power_on_a_half_sd_shift() -> None:
    report = _trials(_normal, _shifted(0.5), columns=100)
    assert len(report.drifted_columns) >= 95
    assert report.dataset_drift


def test_chi_square_on_categories_alarms_at_the_nominal_rate() -> None:
    report = _trials(_categories, rows=200)
    assert {c.method for c in report.columns} == {"chisquare"}
    _assert_calibrated(report)


def test_chi_square_stays_calibrated_on_sparse_categories() -> None:
    report = _trials(_sparse, rows=150, cur_rows=60)
    _assert_calibrated(report)


def test_chi_square_power_on_shifted_shares() -> None:
    def moved(rng: np.random.Generator, n: int) -> Any:
        return rng.choice(LEVELS, n, p=[0.3, 0.3, 0.2, 0.1, 0.1])

    report = _trials(_categories, moved, rows=500, columns=100)
    assert len(report.drifted_columns) >= 90


def test_integer_columns_with_few_values_are_tested_as_categories() -> None:
    report = _trials(_poisson)
    assert {c.kind for c in report.columns} == {"discrete"}
    assert {c.method for c in report.columns} == {"chisquare"}
    _assert_calibrated(report)


def test_ks_would_be_conservative_on_those_tied_values() -> None:
    """Why: KS's p-values assume no ties; on a handful of values it hardly ever alarms."""
    report = _trials(_poisson, column_methods={f"c{i}": "ks" for i in range(TRIALS)})
    assert len(report.drifted_columns) < stats.binom.ppf(0.0005, TRIALS, NOMINAL)


def test_discrete_power_on_a_shifted_rate() -> None:
    report = _trials(_poisson, lambda rng, n: rng.poisson(2.0, n), columns=100)
    assert len(report.drifted_columns) >= 90


def test_integers_with_many_values_keep_ks_and_do_not_over_alarm() -> None:
    report = _trials(lambda rng, n: rng.integers(0, 60, n))
    assert {c.method for c in report.columns} == {"ks"}
    alarms = len(report.drifted_columns)
    assert alarms <= stats.binom.ppf(0.9995, TRIALS, NOMINAL)


@pytest.mark.parametrize("draw", [_normal, _categories, _poisson], ids=["num", "cat", "int"])
def test_large_samples_use_distances_and_do_not_alarm_on_equal_data(draw: Draw) -> None:
    report = _trials(draw, rows=3000, columns=40)
    assert {c.method for c in report.columns} <= {"wasserstein", "jensenshannon"}
    assert report.drifted_columns == []


def test_large_samples_find_a_shift_past_the_distance_threshold() -> None:
    report = _trials(_normal, _shifted(0.3), rows=3000, columns=40)
    assert len(report.drifted_columns) == 40
    assert all(0.2 < (c.distance or 0) < 0.4 for c in report.columns)


def test_a_significant_shift_under_the_distance_threshold_is_not_drift() -> None:
    report = _trials(_normal, _shifted(0.04), rows=20_000, columns=10)
    assert sum((c.p_value or 1) < 0.05 for c in report.columns) >= 5
    assert report.drifted_columns == []


def test_jensen_shannon_noise_on_many_categories_does_not_raise_alarms() -> None:
    """JS of two samples of 1,200 over 60 categories passes 0.1 by chance most of the time;
    the chi-square guard keeps the false-alarm rate at the nominal level."""
    names = np.array([f"k{i}" for i in range(60)], dtype=object)
    report = _trials(lambda rng, n: rng.choice(names, n), rows=1200, columns=200)
    assert {c.method for c in report.columns} == {"jensenshannon"}
    noisy = sum((c.distance or 0) > 0.1 for c in report.columns)
    assert noisy > 100
    assert len(report.drifted_columns) <= stats.binom.ppf(0.9995, 200, NOMINAL)


def test_psi_on_request_is_quiet_on_equal_data_and_loud_on_shifted() -> None:
    methods = {f"c{i}": "psi" for i in range(100)}
    quiet = _trials(_normal, rows=1000, columns=100, column_methods=methods)
    assert {c.method for c in quiet.columns} == {"psi"}
    assert quiet.drifted_columns == []
    loud = _trials(_normal, _shifted(0.6), rows=1000, columns=100, column_methods=methods)
    assert len(loud.drifted_columns) == 100
