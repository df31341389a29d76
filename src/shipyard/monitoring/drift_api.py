"""Drift between a reference table and a current one: :func:`drift`.

    report = drift(train_df, last_week_df, prediction="score")
    report.dataset_drift, report.drifted_columns, report["age"].p_value
    report.to_html("drift.html")

How each column is compared (the numbers live in
:mod:`shipyard.monitoring.drift_methods`):

- **Small or large.** A column is *small* when the smaller of its two
  samples (non-missing values) has at most ``SMALL_SAMPLE = 1000`` values.
  Small columns get a two-sample test whose p-value is compared with the
  threshold (0.05). Large ones get a distance with a fixed threshold,
  because on large samples a test flags shifts too small to matter.
  Evidently switches on the reference's size alone; the smaller side is what
  decides how noisy a test or a distance is, so that is what counts here.
- **Numerical** columns: Kolmogorov-Smirnov when small (SciPy's exact
  p-values for small samples); when large, the Wasserstein-1 distance
  divided by the reference's standard deviation, drifted above 0.1.
- **Categorical** columns (strings, booleans): Pearson's chi-square test of
  homogeneity on the 2 x k contingency table of both samples
  (``scipy.stats.chi2_contingency``, no continuity correction, cells with an
  expected count under 5 pooled) when small; the Jensen-Shannon distance
  (natural log) when large, drifted above 0.1.
- **Discrete** numbers: a number column whose reference takes at most
  ``DISCRETE_VALUES = 20`` distinct values (and repeats them: at most half
  as many values as rows) is compared as categories, chi-square or
  Jensen-Shannon. KS assumes continuous data: on heavily tied values its
  p-values are too large and it misses real shifts, while the chi-square
  test stays calibrated. Number columns with more distinct values keep KS,
  which on moderate ties errs on the conservative side (fewer false alarms).
- **PSI** on request (``column_methods={"income": "psi"}``): over the
  categories, or over ten bins cut at the reference's deciles for a
  numerical column; drifted above 0.2 (0.1 is the usual "moderate" mark:
  pass ``thresholds={"income": 0.1}``). ``chisquare`` and ``jensenshannon``
  on a numerical column use the same ten bins.
- **Distances keep the false-alarm rate too.** A distance drifts only when
  it passes its threshold *and* the matching test rejects at 0.05 (KS for
  Wasserstein, chi-square on the same cells for Jensen-Shannon and PSI). On
  large samples the test always rejects a shift as large as the threshold,
  so the distance decides; on small windows or columns with many categories,
  where a distance is mostly noise (Jensen-Shannon of two samples of 1,000
  from the same 50 equally likely categories exceeds 0.1 four times in five),
  the test stops false alarms.
- **Large tables** are read once, in batches (Parquet: one record batch at a
  time). Categorical counts are exact; numerical tests and distances use a
  uniform sample of up to 100,000 rows per table (exact below that), which
  keeps the tests calibrated; see :mod:`shipyard.monitoring.drift_scan`.

Columns of other types (dates, lists) are listed, not tested. A column
whose kind of value changed (numbers in the reference, strings now) is a
schema violation and is compared as categories.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from shipyard.errors import InvalidInputError
from shipyard.monitoring.drift_methods import (
    METHODS,
    Setting,
    compare_categories,
    compare_numbers,
)
from shipyard.monitoring.drift_report import ColumnDrift, DriftReport, SchemaViolation
from shipyard.monitoring.drift_scan import TableScan, scan
from shipyard.monitoring.drift_sources import ColumnInfo, Source, open_source, source_from_arrays

__all__ = ["drift"]

_REFERENCE_SEED, _CURRENT_SEED = 0x5EED, 0xC0DE
_TESTS = ("ks", "chisquare")


def _kind(ref: ColumnInfo, cur: ColumnInfo) -> str:
    if ref.kind == cur.kind:
        return ref.kind
    if "unsupported" in (ref.kind, cur.kind):
        return "unsupported"
    return "categorical"  # numbers on one side, strings on the other


def _check_options(
    names: Sequence[str],
    kinds: Mapping[str, str],
    methods: Mapping[str, str],
    thresholds: Mapping[str, float],
) -> None:
    for option, given in (("column_methods", methods), ("thresholds", thresholds)):
        unknown = [c for c in given if c not in names]
        if unknown:
            raise InvalidInputError(f"{option} names a column that is not compared: {unknown[0]!r}")
    for column, method in methods.items():
        if method not in METHODS:
            raise InvalidInputError(
                f"unknown drift method {method!r} for {column!r}; one of {', '.join(METHODS)}"
            )
        if kinds[column] == "categorical" and method in ("ks", "wasserstein"):
            raise InvalidInputError(
                f"{method} needs numbers; {column!r} is categorical: use chisquare, "
                "jensenshannon or psi"
            )
    for column, value in thresholds.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInputError(f"the threshold of {column!r} must be a number")
        test = methods.get(column) in _TESTS
        if not math.isfinite(value) or value <= 0 or (test and value >= 1):
            raise InvalidInputError(f"threshold {value!r} of {column!r} is out of range")


def _schema(
    names: Sequence[str], ref: Source, cur: Source, extra: Sequence[str]
) -> list[SchemaViolation]:
    found: list[SchemaViolation] = []
    for name in names:
        r = ref.columns[name]
        c = cur.columns.get(name)
        if c is None:
            found.append(SchemaViolation(name, "missing_column", reference_type=r.type))
        elif r.logical != c.logical:
            found.append(SchemaViolation(name, "type_changed", r.type, c.type))
    found += [SchemaViolation(n, "extra_column", current_type=cur.columns[n].type) for n in extra]
    return found


def _compare(
    names: Sequence[str],
    ref: Source,
    cur: Source,
    methods: Mapping[str, str],
    thresholds: Mapping[str, float],
) -> tuple[list[ColumnDrift], TableScan, TableScan]:
    """Scan both tables (reference first: its ranges count out-of-range current values)."""
    kinds = {n: _kind(ref.columns[n], cur.columns[n]) for n in names}
    numbers = [n for n in names if kinds[n] == "numerical"]
    categories = [n for n in names if kinds[n] == "categorical"]
    ref_scan = scan(ref, numbers, categories, seed=_REFERENCE_SEED)
    bounds = {n: ref_scan.numbers[n].bounds for n in numbers}
    cur_scan = scan(cur, numbers, categories, seed=_CURRENT_SEED, bounds=bounds)
    results = []
    for name in names:
        r, c = ref.columns[name], cur.columns[name]
        setting = Setting(methods.get(name), thresholds.get(name), r.type, c.type)
        if kinds[name] == "numerical":
            sampled = ref_scan.sampled or cur_scan.sampled
            results.append(
                compare_numbers(
                    name, ref_scan.numbers[name], cur_scan.numbers[name], setting, sampled
                )
            )
        elif kinds[name] == "categorical":
            results.append(
                compare_categories(
                    name, ref_scan.categories[name], cur_scan.categories[name], setting
                )
            )
        else:
            note = f"{r.type} -> {c.type}: not tested" if r.type != c.type else "type not tested"
            results.append(
                ColumnDrift(
                    column=name,
                    kind="unsupported",
                    method=None,
                    drifted=False,
                    reference_type=r.type,
                    current_type=c.type,
                    note=note,
                )
            )
    return results, ref_scan, cur_scan


def _prediction_sources(prediction: Any) -> tuple[Source, Source] | None:
    if prediction is None or isinstance(prediction, str):
        return None
    if not isinstance(prediction, tuple | list) or len(prediction) != 2:
        raise InvalidInputError(
            "prediction must be a column name or a (reference, current) pair of arrays"
        )
    return (
        source_from_arrays(prediction[0], "prediction", "reference"),
        source_from_arrays(prediction[1], "prediction", "current"),
    )


def drift(
    reference: Any,
    current: Any,
    columns: Sequence[str] | None = None,
    *,
    column_methods: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    drift_share: float = 0.5,
    prediction: str | tuple[Any, Any] | None = None,
) -> DriftReport:
    """Compare ``current`` with ``reference`` column by column.

    Both tables may be pandas or polars DataFrames, pyarrow Tables, or a
    Parquet file, a folder of them or a list of files (read in batches).
    ``columns``: the columns to compare (default: all of the reference's).
    ``column_methods`` / ``thresholds``: per column, a method (ks,
    wasserstein, psi, chisquare, jensenshannon) and the threshold it uses
    (a p-value for ks / chisquare, a distance for the others).
    ``drift_share``: the share of drifted columns at which the dataset drifts.
    ``prediction``: the model outputs, as a column of both tables or a
    ``(reference, current)`` pair of arrays (2-D: one column per output);
    reported apart, in ``report.prediction``, and not counted in the share.
    """
    if isinstance(drift_share, bool) or not 0 < float(drift_share) <= 1:
        raise InvalidInputError(f"drift_share must be in (0, 1], got {drift_share!r}")
    ref = open_source(reference, "reference")
    cur = open_source(current, "current")
    predicted = prediction if isinstance(prediction, str) else None
    if predicted is not None and (predicted not in ref.columns or predicted not in cur.columns):
        raise InvalidInputError(f"the prediction column {predicted!r} is not in both tables")
    if columns is None:
        names = [n for n in ref.columns if n != predicted]
        extra = [n for n in cur.columns if n not in ref.columns and n != predicted]
    else:
        if isinstance(columns, str):
            columns = [columns]
        names = list(dict.fromkeys(str(n) for n in columns if n != predicted))
        absent = [n for n in names if n not in ref.columns]
        if absent:
            raise InvalidInputError(f"the reference has no column {absent[0]!r}")
        extra = []
    violations = _schema(names, ref, cur, extra)
    compared = [n for n in names if n in cur.columns]
    if predicted is not None:
        compared.append(predicted)  # read in the same pass as the features
    kinds = {n: _kind(ref.columns[n], cur.columns[n]) for n in compared}
    methods = dict(column_methods or {})
    limits = dict(thresholds or {})
    _check_options(compared, kinds, methods, limits)
    results, ref_scan, cur_scan = _compare(
        compared, ref, cur, methods, {k: float(v) for k, v in limits.items()}
    )
    predictions: list[ColumnDrift] = []
    if predicted is not None:
        predictions = [results.pop()]
    pair = _prediction_sources(prediction)
    if pair is not None:
        outputs = list(pair[0].columns)
        if outputs != list(pair[1].columns):
            raise InvalidInputError("the reference and current predictions have different widths")
        predictions = _compare(outputs, pair[0], pair[1], {}, {})[0]
    return DriftReport(
        columns=results,
        drift_share=float(drift_share),
        prediction=predictions,
        schema_violations=violations,
        reference_rows=ref_scan.rows,
        current_rows=cur_scan.rows,
    )
