"""drift() on every kind of table it takes, and the report it gives back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest

from shipyard.errors import InvalidInputError
from shipyard.monitoring import ColumnDrift, DriftReport, SchemaViolation, drift

ROWS = 600


def _pair(shift: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(3)
    reference = pd.DataFrame(
        {
            "age": rng.normal(40, 10, ROWS),
            "city": rng.choice(np.array(["paris", "lyon", "nice"], dtype=object), ROWS),
            "kids": rng.integers(0, 4, ROWS),
            "member": rng.random(ROWS) < 0.3,
            "score": rng.random(ROWS),
        }
    )
    current = pd.DataFrame(
        {
            "age": rng.normal(48 if shift else 40, 10, ROWS),
            "city": rng.choice(
                np.array(
                    ["paris", "lyon", "nice", "lille"] if shift else ["paris", "lyon", "nice"],
                    dtype=object,
                ),
                ROWS,
            ),
            "kids": rng.integers(0, 6 if shift else 4, ROWS),
            "member": rng.random(ROWS) < 0.3,
            "score": rng.random(ROWS),
        }
    )
    return reference, current


def test_columns_get_their_kind_method_and_verdict() -> None:
    reference, current = _pair(shift=True)
    report = drift(reference, current, prediction="score")
    assert [c.column for c in report.columns] == ["age", "city", "kids", "member"]
    kinds = {c.column: (c.kind, c.method) for c in report.columns}
    assert kinds == {
        "age": ("numerical", "ks"),
        "city": ("categorical", "chisquare"),
        "kids": ("discrete", "chisquare"),
        "member": ("categorical", "chisquare"),
    }
    assert report.drifted_columns == ["age", "city", "kids"]
    assert report.dataset_drift and report.drifted_share == 0.75
    assert [p.column for p in report.prediction] == ["score"]
    assert not report.prediction_drift
    city = report["city"]
    assert city.new_categories == ["lille"]
    assert 0 < city.new_count < ROWS
    assert report["kids"].new_categories == ["4", "5"]
    assert report["kids"].out_of_range_count == report["kids"].new_count > 0
    assert report["age"].out_of_range_count == int(
        (
            (current["age"] < reference["age"].min()) | (current["age"] > reference["age"].max())
        ).sum()
    )
    assert report["age"].threshold == 0.05 and report["age"].score == report["age"].p_value


def test_no_drift_on_the_same_distribution() -> None:
    reference, current = _pair()
    report = drift(reference, current)
    assert report.drifted_columns == []
    assert not report.dataset_drift
    assert report.schema_violations == []


def test_drift_share_decides_the_dataset_verdict() -> None:
    reference, current = _pair(shift=True)
    assert drift(reference, current, drift_share=0.6).dataset_drift  # 3 of 5
    assert not drift(reference, current, drift_share=0.61).dataset_drift
    with pytest.raises(InvalidInputError):
        drift(reference, current, drift_share=0)


def test_missing_values_are_shared_not_tested() -> None:
    reference, current = _pair()
    current.loc[: ROWS // 4 - 1, "age"] = np.nan
    current.loc[: ROWS // 2 - 1, "city"] = None
    report = drift(reference, current)
    assert report["age"].reference_missing_share == 0.0
    assert report["age"].current_missing_share == 0.25
    assert report["city"].current_missing_share == 0.5
    assert report["city"].current_count == ROWS // 2


def test_schema_violations() -> None:
    reference, current = _pair()
    current = current.drop(columns=["kids"]).assign(extra=1.0, score=current["score"].astype(str))
    report = drift(reference, current)
    text = str(current["score"].dtype)  # object before pandas 3, str since
    assert set(report.schema_violations) == {
        SchemaViolation("kids", "missing_column", reference_type="int64"),
        SchemaViolation("extra", "extra_column", current_type="float64"),
        SchemaViolation("score", "type_changed", "float64", text),
    }
    assert "kids" not in [c.column for c in report.columns]
    # numbers as text now: compared as categories, every value new
    assert report["score"].kind == "categorical" and report["score"].new_count == ROWS


def test_integer_to_float_is_not_a_type_change() -> None:
    reference, current = _pair()
    current["kids"] = current["kids"].astype(float)
    assert drift(reference, current).schema_violations == []


def test_methods_and_thresholds_per_column() -> None:
    reference, current = _pair(shift=True)
    report = drift(
        reference,
        current,
        column_methods={"age": "psi", "city": "jensenshannon", "kids": "ks"},
        thresholds={"age": 0.1, "city": 0.9},
    )
    assert report["age"].method == "psi" and report["age"].threshold == 0.1
    assert report["age"].drifted and report["age"].distance is not None
    assert report["city"].method == "jensenshannon" and not report["city"].drifted
    assert report["kids"].method == "ks"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"column_methods": {"city": "ks"}}, "categorical"),
        ({"column_methods": {"age": "t-test"}}, "unknown drift method"),
        ({"column_methods": {"nope": "ks"}}, "not compared"),
        ({"thresholds": {"age": -1}}, "out of range"),
        ({"thresholds": {"age": "high"}}, "must be a number"),
        ({"column_methods": {"age": "ks"}, "thresholds": {"age": 2}}, "out of range"),
        ({"columns": ["age", "salary"]}, "no column 'salary'"),
        ({"prediction": "salary"}, "not in both tables"),
        ({"prediction": ([1, 2], [1, 2], [3])}, "pair of arrays"),
    ],
)
def test_bad_options_are_input_errors(options: dict[str, object], message: str) -> None:
    reference, current = _pair()
    with pytest.raises(InvalidInputError, match=message):
        drift(reference, current, **options)  # type: ignore[arg-type]


def test_bad_tables_are_input_errors(tmp_path: Path) -> None:
    reference, _ = _pair()
    with pytest.raises(InvalidInputError, match="must be a pandas"):
        drift(reference, [1, 2, 3])
    with pytest.raises(InvalidInputError, match="no such file"):
        drift(reference, tmp_path / "missing.parquet")
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(InvalidInputError, match="as Parquet"):
        drift(reference, tmp_path / "bad.parquet")


def test_columns_limits_the_comparison() -> None:
    reference, current = _pair(shift=True)
    report = drift(reference, current, columns=["member", "age"])
    assert [c.column for c in report.columns] == ["member", "age"]
    assert report.drifted_columns == ["age"]


def test_prediction_arrays_one_and_two_dimensional() -> None:
    reference, current = _pair()
    rng = np.random.default_rng(0)
    report = drift(reference, current, prediction=(rng.random(500), rng.random(400) + 0.5))
    assert [p.column for p in report.prediction] == ["prediction"]
    assert report.prediction_drift
    assert not report.dataset_drift  # the prediction does not count in the share
    probabilities = (rng.dirichlet([1, 1, 1], 500), rng.dirichlet([1, 1, 1], 500))
    report = drift(reference, current, prediction=probabilities)
    assert [p.column for p in report.prediction] == [
        "prediction[0]",
        "prediction[1]",
        "prediction[2]",
    ]
    labels = (np.array(["cat", "dog"] * 100, dtype=object), np.array(["cat"] * 200, dtype=object))
    report = drift(reference, current, prediction=labels)
    assert report.prediction[0].kind == "categorical" and report.prediction_drift


def _without_types(report: dict[str, Any]) -> dict[str, Any]:
    """Types are named as each library names them (object, large_string, ...)."""
    for column in report["columns"]:
        del column["reference_type"], column["current_type"]
    return report


def test_every_table_type_gives_the_same_report(tmp_path: Path) -> None:
    reference, current = _pair(shift=True)
    expected = _without_types(drift(reference, current).to_dict())
    arrow = (pa.Table.from_pandas(reference), pa.Table.from_pandas(current))
    polars = (pl.from_pandas(reference), pl.from_pandas(current))
    pq.write_table(arrow[0], tmp_path / "ref.parquet")
    pq.write_table(arrow[1].slice(0, 200), tmp_path / "cur-1.parquet")
    pq.write_table(arrow[1].slice(200), tmp_path / "cur-2.parquet")
    (tmp_path / "cur").mkdir()
    pq.write_table(arrow[1].slice(0, 200), tmp_path / "cur" / "a.parquet")
    pq.write_table(arrow[1].slice(200), tmp_path / "cur" / "b.parquet")
    files = [tmp_path / "cur-1.parquet", str(tmp_path / "cur-2.parquet")]
    for ref, cur in (
        arrow,
        polars,
        (tmp_path / "ref.parquet", files),
        (str(tmp_path / "ref.parquet"), tmp_path / "cur"),
        (reference, arrow[1].to_batches()[0]),
    ):
        assert _without_types(drift(ref, cur).to_dict()) == expected


def test_streamed_parquet_equals_in_memory_beyond_the_sample(tmp_path: Path) -> None:
    """250k rows: read in batches, sampled for the numbers; the same report either way."""
    rng = np.random.default_rng(5)
    rows = 250_000
    table = pa.table(
        {
            "x": rng.normal(0, 1, rows),
            "g": pa.array(
                rng.choice(np.array(["u", "v", "w"], dtype=object), rows)
            ).dictionary_encode(),
        }
    )
    current = pa.table(
        {
            "x": rng.normal(0.02, 1, rows),
            "g": pa.array(
                rng.choice(
                    np.array(["u", "v", "w", "z"], dtype=object), rows, p=[0.3, 0.3, 0.3, 0.1]
                )
            ),
        }
    )
    pq.write_table(table, tmp_path / "ref.parquet", row_group_size=50_000)
    pq.write_table(current, tmp_path / "cur.parquet", row_group_size=50_000)
    streamed = drift(tmp_path / "ref.parquet", tmp_path / "cur.parquet")
    in_memory = drift(table, current)
    x = streamed["x"]
    assert x.sampled and x.method == "wasserstein" and not x.drifted
    assert x.reference_count == x.current_count == rows
    assert sum(x.histogram.reference) == 100_000  # type: ignore[union-attr]
    assert (
        streamed["g"].new_count
        == in_memory["g"].new_count
        == int((np.asarray(current["g"]) == "z").sum())
    )
    assert streamed["g"].drifted and not streamed["g"].sampled
    for name in ("x", "g"):
        a, b = streamed[name].to_dict(), in_memory[name].to_dict()
        a.pop("reference_type"), b.pop("reference_type")
        assert a == b


def test_dict_round_trip_is_json_safe() -> None:
    reference, current = _pair(shift=True)
    current["const"] = 1.0
    reference["const"] = 1.0
    reference["when"] = pd.Timestamp("2024-01-01")
    current["when"] = pd.Timestamp("2024-02-01")
    report = drift(reference, current, prediction="score")
    text = json.dumps(report.to_dict(), allow_nan=False)
    again = DriftReport.from_dict(json.loads(text))
    assert again == report
    assert again.to_dict() == report.to_dict()
    when = report["when"]
    assert when.kind == "unsupported" and when.method is None and not when.drifted
    assert "when" not in report.tested_columns
    assert isinstance(report["const"], ColumnDrift) and not report["const"].drifted


def test_html_page_is_self_contained(tmp_path: Path) -> None:
    reference, current = _pair(shift=True)
    current["extra"] = 1
    report = drift(reference, current, prediction="score")
    path = tmp_path / "drift.html"
    page = report.to_html(path, title="Weekly <drift>")
    assert path.read_text(encoding="utf-8") == page
    assert page.startswith("<!doctype html>") and "<style>" in page
    assert "Weekly &lt;drift&gt;" in page
    assert page.count("<svg") == 5  # prediction + four columns
    assert "lille" in page and "extra column" in page
    for remote in ("http://", "https://", "<script", "<link", "src="):
        assert remote not in page


def test_empty_current_table_is_not_tested() -> None:
    reference, current = _pair()
    report = drift(reference, current.iloc[:0])
    assert report.current_rows == 0
    assert report.drifted_columns == [] and report.tested_columns == []
    assert all(c.note for c in report.columns)


def test_import_stays_cheap() -> None:
    code = (
        "import sys, shipyard.monitoring as m; "
        "heavy = {'pandas', 'scipy', 'pyarrow'} & set(sys.modules); "
        "assert m.DriftReport and not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_pandas_dtypes_nullable_category_object_and_infinities() -> None:
    rng = np.random.default_rng(8)
    n = 400
    ints = pd.array(rng.integers(0, 100, n), dtype="Int64")
    ints[:40] = pd.NA
    numbers_as_objects = pd.Series(rng.normal(0, 1, n), dtype=object)
    numbers_as_objects[:10] = None
    floats = rng.normal(0, 1, n)
    floats[:5] = np.inf
    reference = pd.DataFrame(
        {
            "ints": ints,
            "objects": numbers_as_objects,
            "floats": floats,
            "levels": pd.Categorical(rng.choice(["lo", "hi"], n)),
            1: rng.random(n),  # a column name that is not a string
        }
    )
    current = reference.copy()
    current.loc[:9, "floats"] = -np.inf  # never in the reference: out of its range
    report = drift(reference, current)
    kinds = {c.column: c.kind for c in report.columns}
    assert kinds == {
        "ints": "numerical",
        "objects": "numerical",
        "floats": "numerical",
        "levels": "categorical",
        "1": "numerical",
    }
    assert report.drifted_columns == []
    assert report["ints"].reference_missing_share == 0.1
    assert report["objects"].current_missing_share == 10 / n
    floats_drift = report["floats"]
    assert floats_drift.reference_count == n and floats_drift.out_of_range_count == 10
    assert floats_drift.histogram is not None and sum(floats_drift.histogram.reference) == n - 5


def test_a_column_with_no_values_left_is_reported_not_tested() -> None:
    reference, current = _pair()
    current["age"] = np.nan
    report = drift(reference, current)
    age = report["age"]
    assert age.method is None and not age.drifted and age.current_missing_share == 1.0
    assert age.note == "no finite values in the current: not tested"
    assert "age" not in report.tested_columns


def test_the_prediction_column_is_not_a_feature_even_when_listed() -> None:
    reference, current = _pair()
    report = drift(reference, current, columns=["age", "score"], prediction="score")
    assert [c.column for c in report.columns] == ["age"]
    assert [c.column for c in report.prediction] == ["score"]
