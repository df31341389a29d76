"""Table profiles checked against pandas / numpy computed on the same data."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest

from shipyard.data import profile as profiling
from shipyard.data import profile_stats
from shipyard.data.profile import (
    fit_profile,
    profile_file,
    profile_table,
    profile_version,
    schema_and_rows,
)
from shipyard.errors import InvalidInputError

ROWS = 400


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    floats = rng.normal(10.0, 3.0, ROWS)
    floats[[3, 50, 70]] = np.nan
    floats[5], floats[6] = np.inf, -np.inf
    ints = pd.array(rng.integers(-1000, 1000, ROWS), dtype="Int64")
    ints[np.array([0, 9])] = pd.NA
    strings = rng.choice(np.array(["red", "green", "blue", "a much longer value"]), ROWS)
    times = pd.to_datetime("2021-03-01") + pd.to_timedelta(rng.integers(0, 900, ROWS), unit="D")
    frame = pd.DataFrame(
        {
            "i": ints,
            "f": floats,
            "const": np.full(ROWS, 3.5),
            "small": rng.integers(0, 5, ROWS),
            "s": pd.Series(strings, dtype=object),
            "b": rng.random(ROWS) < 0.3,
            "t": pd.Series(times),
        }
    )
    frame.loc[[1, 2, 4], "s"] = None
    frame.loc[[7], "t"] = pd.NaT
    return frame


def _json_safe(profile: Any) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(json.dumps(profile, allow_nan=False))
    return decoded


@pytest.fixture(params=["parquet", "csv", "tsv"])
def profiled(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[dict[str, Any], str]:
    frame = _frame()
    path = tmp_path / f"table.{request.param}"
    if request.param == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, sep="\t" if request.param == "tsv" else ",")
    profile = profile_file(path)
    assert profile is not None
    return _json_safe(profile), request.param


def test_numbers_match_pandas(profiled: tuple[dict[str, Any], str]) -> None:
    profile, _ = profiled
    frame = _frame()
    assert profile["row_count"] == ROWS and profile["column_count"] == 7
    assert profile["sample_rows"] == ROWS  # small tables are profiled exactly
    for name in ("i", "f", "small"):
        column = profile["columns"][name]
        raw = frame[name].astype(float)
        values = raw.replace([np.inf, -np.inf], np.nan).dropna()
        assert column["kind"] == ("float" if name == "f" else "integer")
        assert column["missing_count"] == int(raw.isna().sum())
        assert column["missing_share"] == pytest.approx(raw.isna().mean())
        assert column["count"] == int(raw.notna().sum())
        assert column["infinite_count"] == int(np.isinf(raw).sum())
        assert column["min"] == values.min() and column["max"] == values.max()
        assert column["mean"] == pytest.approx(values.mean(), rel=1e-12)
        assert column["std"] == pytest.approx(values.std(), rel=1e-12)
        for key, q in profile_stats.QUANTILES.items():
            assert column["quantiles"][key] == pytest.approx(values.quantile(q), rel=1e-12)
        edges, counts = column["histogram"]["edges"], column["histogram"]["counts"]
        assert (
            len(edges) == len(counts) + 1 and edges[0] <= values.min() <= values.max() <= edges[-1]
        )
        assert counts == np.histogram(values, bins=edges)[0].tolist()
        assert sum(counts) == len(values)
    assert isinstance(profile["columns"]["i"]["min"], int)
    assert len(profile["columns"]["f"]["histogram"]["counts"]) == profile_stats.HISTOGRAM_BINS


def test_a_small_integer_range_gets_one_bin_per_value(
    profiled: tuple[dict[str, Any], str],
) -> None:
    profile, _ = profiled
    histogram = profile["columns"]["small"]["histogram"]
    assert histogram["edges"] == [-0.5, 0.5, 1.5, 2.5, 3.5, 4.5]
    expected = _frame()["small"].value_counts().sort_index().tolist()
    assert histogram["counts"] == expected


def test_a_constant_column_has_one_degenerate_bin(profiled: tuple[dict[str, Any], str]) -> None:
    profile, _ = profiled
    column = profile["columns"]["const"]
    assert (column["min"], column["max"], column["mean"], column["std"]) == (3.5, 3.5, 3.5, 0.0)
    assert column["histogram"] == {"edges": [3.5, 3.5], "counts": [ROWS]}
    assert set(column["quantiles"].values()) == {3.5}


def test_categories_match_value_counts(profiled: tuple[dict[str, Any], str]) -> None:
    profile, _ = profiled
    frame = _frame()
    column = profile["columns"]["s"]
    counts = frame["s"].value_counts()
    assert column["kind"] == "string"
    assert column["distinct"] == frame["s"].nunique() and column["distinct_exact"] is True
    assert column["missing_count"] == 3 and column["count"] == ROWS - 3
    assert {t["value"]: t["count"] for t in column["top"]} == counts.to_dict()
    assert [t["count"] for t in column["top"]] == sorted(counts.tolist(), reverse=True)
    assert column["other_count"] == 0
    flags = profile["columns"]["b"]
    assert flags["kind"] == "boolean"
    trues = int(frame["b"].sum())
    assert {t["value"]: t["count"] for t in flags["top"]} == {"true": trues, "false": ROWS - trues}
    assert flags["mean"] == pytest.approx(frame["b"].mean())


def test_datetimes_have_min_max_and_missing(profiled: tuple[dict[str, Any], str]) -> None:
    profile, _ = profiled
    frame = _frame()
    column = profile["columns"]["t"]
    assert column["kind"] == "datetime" and column["type"].startswith(("timestamp", "date32"))
    assert column["missing_count"] == 1
    assert column["min"].startswith(frame["t"].min().strftime("%Y-%m-%d"))
    assert column["max"].startswith(frame["t"].max().strftime("%Y-%m-%d"))


def test_parquet_types_are_arrow_types(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    _frame().to_parquet(path, index=False)
    profile = profile_file(path)
    assert profile is not None
    schema, rows = schema_and_rows(profile)
    expected = {f.name: str(f.type) for f in pq.read_schema(path)}
    assert schema == expected and rows == ROWS


def test_empty_and_header_only_csv(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    header = tmp_path / "header.csv"
    header.write_text("a,b\n")
    assert profile_file(empty) == {
        "format": 1,
        "row_count": 0,
        "column_count": 0,
        "sample_rows": 0,
        "columns": {},
    }
    profile = _json_safe(profile_file(header))
    assert profile["row_count"] == 0 and list(profile["columns"]) == ["a", "b"]
    assert profile["columns"]["a"]["missing_share"] is None
    assert profile["columns"]["a"]["count"] == 0


def test_an_empty_parquet_keeps_its_schema(tmp_path: Path) -> None:
    path = tmp_path / "none.parquet"
    pq.write_table(
        pa.table({"x": pa.array([], pa.float64()), "s": pa.array([], pa.string())}), path
    )
    profile = _json_safe(profile_file(path))
    assert profile["row_count"] == 0
    assert profile["columns"]["x"]["type"] == "double"
    assert "histogram" not in profile["columns"]["x"]
    assert profile["columns"]["s"]["top"] == [] and profile["columns"]["s"]["distinct"] == 0


def test_only_nan_and_infinity_give_nulls_not_nan(tmp_path: Path) -> None:
    table = pa.table({"x": pa.array([math.nan, math.inf, -math.inf, None], pa.float64())})
    column = _json_safe(profile_table(table))["columns"]["x"]
    assert column["missing_count"] == 2 and column["infinite_count"] == 2
    assert "min" not in column and "histogram" not in column


def test_other_files_are_not_tables_and_broken_tables_are_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    assert profile_file(tmp_path / "notes.txt") is None
    with pytest.raises(InvalidInputError, match=r"broken\.parquet"):
        profile_file(tmp_path / "broken.parquet")


def test_batches_and_a_late_type_change_in_a_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tiny blocks: types come from the first rows, then a later value breaks them.
    monkeypatch.setattr(profiling, "CSV_BLOCK_BYTES", 256)
    lines = ["n,m,dup,dup"] + [f"{i},{i},{i % 3},x" for i in range(300)]
    lines[250] = "2.5,oops,1,x"
    path = tmp_path / "late.csv"
    path.write_text("\n".join(lines) + "\n")
    profile = _json_safe(profile_file(path))
    assert profile["row_count"] == 300
    assert list(profile["columns"]) == ["n", "m", "dup", "dup.1"]
    assert profile["columns"]["n"]["type"] == "double"
    assert profile["columns"]["m"]["kind"] == "string"
    expected = [float(i) for i in range(300) if i != 249] + [2.5]
    assert profile["columns"]["n"]["mean"] == pytest.approx(np.mean(expected))
    assert profile["columns"]["m"]["distinct"] == 300


def test_big_tables_stream_and_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(profiling, "BATCH_ROWS", 1_000)
    monkeypatch.setattr(profile_stats, "SAMPLE_ROWS", 2_000)
    rng = np.random.default_rng(3)
    values = rng.normal(0.0, 1.0, 20_000)
    table = pa.table({"x": values, "k": rng.choice(["a", "b"], 20_000)})
    profile = _json_safe(profile_table(table))
    column = profile["columns"]["x"]
    assert profile["row_count"] == 20_000 and profile["sample_rows"] == 2_000
    # exact over every row
    assert column["mean"] == pytest.approx(values.mean(), rel=1e-9)
    assert column["std"] == pytest.approx(values.std(ddof=1), rel=1e-9)
    assert (column["min"], column["max"]) == (values.min(), values.max())
    keys, found = np.unique(table["k"].to_numpy(zero_copy_only=False), return_counts=True)
    counts = dict(zip(keys.tolist(), found.tolist(), strict=True))
    assert {t["value"]: t["count"] for t in profile["columns"]["k"]["top"]} == counts
    # from the sample: close to the truth, and the same every time
    assert sum(column["histogram"]["counts"]) == 2_000
    assert column["quantiles"]["p50"] == pytest.approx(np.median(values), abs=0.1)
    assert column["quantiles"]["p95"] == pytest.approx(np.quantile(values, 0.95), abs=0.15)
    assert _json_safe(profile_table(table)) == profile


def test_too_many_distinct_values_keep_the_heavy_hitters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(profiling, "BATCH_ROWS", 500)
    monkeypatch.setattr(profile_stats, "MAX_TRACKED_VALUES", 200)
    values = [f"id{i}" for i in range(3_000)] + ["hot"] * 700 + ["warm"] * 300
    column = profile_table(pa.table({"v": values}))["columns"]["v"]
    assert column["distinct_exact"] is False and column["distinct"] <= 400
    assert column["top"][:2] == [{"value": "hot", "count": 700}, {"value": "warm", "count": 300}]


def test_an_unnamed_pandas_index_is_left_out_and_a_named_one_kept() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0]}, index=pd.Index(["a", "b", "c"]))
    profile = profile_table(frame)
    assert list(profile["columns"]) == ["x"] and profile["row_count"] == 3
    named = profile_table(frame.rename_axis("key"))
    assert list(named["columns"]) == ["x", "key"] and named["column_count"] == 2
    with pytest.raises(InvalidInputError, match="expected a pandas DataFrame"):
        profile_table([1, 2, 3])


def test_polars_input() -> None:
    pl = pytest.importorskip("polars")
    profile = profile_table(pl.DataFrame({"x": [1, 2, None]}))
    assert profile["columns"]["x"]["missing_count"] == 1


def test_long_category_values_are_cut() -> None:
    column = profile_table(pa.table({"s": ["y" * 1000]}))["columns"]["s"]
    assert len(column["top"][0]["value"]) == profile_stats.MAX_VALUE_CHARS


def test_profile_version_keeps_tables_only(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n2\n")
    (tmp_path / "readme.md").write_text("# data")
    version = profile_version(
        [("data/a.csv", tmp_path / "a.csv"), ("readme.md", str(tmp_path / "readme.md"))]
    )
    assert version is not None and version["format"] == 1
    assert list(version["files"]) == ["data/a.csv"]
    assert version["files"]["data/a.csv"]["row_count"] == 2
    assert profile_version([("readme.md", str(tmp_path / "readme.md"))]) is None


def test_an_oversized_version_profile_sheds_detail(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    wide = pa.table({f"c{i}": rng.normal(size=50) for i in range(40)})
    files = {f"t{i}.parquet": profile_table(wide) for i in range(5)}
    whole = json.dumps(fit_profile(files), allow_nan=False)
    assert "truncated" not in json.loads(whole)
    monkeypatch.setattr(profiling, "MAX_PROFILE_BYTES", len(whole) // 3)
    fitted = fit_profile(files)
    assert fitted is not None and fitted["truncated"] is True
    assert len(json.dumps(fitted, allow_nan=False, separators=(",", ":"))) <= len(whole) // 3
    kept = fitted["files"]["t0.parquet"]
    assert kept["row_count"] == 50 and kept["columns"]["c0"]["type"] == "double"
    assert "histogram" not in kept["columns"]["c0"]
