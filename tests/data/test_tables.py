"""``sy.data.log_table`` / ``load_table`` and profiles stored with versions, on SQLite
and through a live server."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest

import shipyard as sy
from shipyard.data.tables import TABLE_FILE, write_parquet
from shipyard.errors import DataCorruptionError, InvalidInputError, NotFoundError
from tests.data.conftest import Backend, make_tree


def _frame(rows: int = 50, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(size=rows),
            "n": pd.array(rng.integers(0, 9, rows), dtype="Int64"),
            "label": pd.Categorical(rng.choice(["cat", "dog"], rows)),
            "when": pd.date_range("2024-01-01", periods=rows, freq="h", tz="UTC"),
        }
    )


def test_writing_the_same_table_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "1.parquet", tmp_path / "2.parquet"
    write_parquet(pa.Table.from_pandas(_frame()), first)
    write_parquet(pa.Table.from_pandas(_frame().copy()), second)
    assert first.read_bytes() == second.read_bytes()


def test_log_table_round_trips_pandas_with_a_profile(backend: Backend, name: str) -> None:
    frame = _frame().set_index(pd.Index([f"r{i}" for i in range(50)], name="row"))
    version = sy.data.log_table(frame, name, message="first", tags=["gold"], client=backend.client)
    assert (version.version, version.message, version.tags) == (1, "first", ["gold"])
    assert [e.path for e in sy.data.files(version, client=backend.client)] == [TABLE_FILE]
    back = sy.data.load_table(f"datasets:/{name}@gold", client=backend.client)
    pd.testing.assert_frame_equal(back, frame)
    stored = backend.client.store.get_dataset_version(name, 1).profile
    assert stored is not None and stored["format"] == 1
    table = stored["files"][TABLE_FILE]
    assert table["row_count"] == 50 and list(table["columns"]) == ["x", "n", "label", "when", "row"]
    assert table["columns"]["x"]["mean"] == pytest.approx(frame["x"].mean())
    labels = {t["value"]: t["count"] for t in table["columns"]["label"]["top"]}
    assert labels == frame["label"].value_counts().to_dict()


def test_log_table_of_arrow_input_and_unchanged_content(backend: Backend, name: str) -> None:
    table = pa.table({"a": [1, 2, 3], "b": ["x", None, "z"]})
    first = sy.data.log_table(table, name, client=backend.client)
    again = sy.data.log_table(
        pa.table({"a": [1, 2, 3], "b": ["x", None, "z"]}), name, client=backend.client
    )
    assert again.version == first.version == 1
    assert [v.version for v in sy.data.versions(name, client=backend.client)] == [1]
    changed = sy.data.log_table(table.slice(0, 2), name, client=backend.client)
    assert (changed.version, changed.parent_version) == (2, 1)
    pd.testing.assert_frame_equal(
        sy.data.load_table(f"{name}@1", client=backend.client), table.to_pandas()
    )
    diff = sy.data.diff(f"{name}@1", f"{name}@2", client=backend.client)
    assert [(t.path, t.rows_before, t.rows_after) for t in diff.tables] == [(TABLE_FILE, 3, 2)]


def test_load_table_inside_a_run_records_the_input(backend: Backend, name: str) -> None:
    sy.data.log_table(_frame(), name)
    with sy.start_run(experiment="tables", capture=False) as run:
        loaded = sy.data.load_table(f"datasets:/{name}/1")
    assert len(loaded) == 50
    inputs = backend.client.store.get_run_inputs(run.id)
    assert [(i.dataset, i.version) for i in inputs] == [(name, 1)]


def test_added_tables_are_profiled_and_diffed_by_profile(
    backend: Backend, name: str, tmp_path: Path
) -> None:
    root = make_tree(tmp_path / "src", {"t.csv": "a,b\n1,x\n2,y\n", "notes.txt": "n"})
    first = sy.data.add(root, name, client=backend.client)
    assert first.profile is not None and list(first.profile["files"]) == ["t.csv"]
    assert first.profile["files"]["t.csv"]["columns"]["a"]["type"] == "int64"
    (root / "t.csv").write_text("a,b,c\n1.5,x,1\n2,y,2\n3,z,3\n")
    second = sy.data.add(root, name, client=backend.client)
    fetched = backend.client.store.get_dataset_version(name, second.version).profile
    assert fetched == second.profile and fetched is not None
    assert fetched["files"]["t.csv"]["row_count"] == 3
    (change,) = sy.data.diff(f"{name}@1", f"{name}@2", client=backend.client).tables
    assert (change.rows_before, change.rows_after) == (2, 3)
    assert change.columns_added == {"c": "int64"}
    assert change.types_changed == {"a": ("int64", "double")}


def test_load_table_picks_a_table(backend: Backend, name: str, tmp_path: Path) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    frame = _frame(20)
    for i, start in enumerate((0, 10)):
        pq.write_table(
            pa.Table.from_pandas(frame.iloc[start : start + 10], preserve_index=False),
            parts / f"part-{i}.parquet",
        )
    sy.data.add(parts, name, client=backend.client)
    whole = sy.data.load_table(name, client=backend.client)
    pd.testing.assert_frame_equal(whole, frame)
    mixed = make_tree(tmp_path / "mixed", {"a.csv": "x\n1\n", "b.tsv": "y\tz\n2\t3\n", "r.md": "#"})
    sy.data.add(mixed, name, client=backend.client)
    with pytest.raises(InvalidInputError, match="2 tables"):
        sy.data.load_table(name, client=backend.client)
    tsv = sy.data.load_table(name, path="b.tsv", client=backend.client)
    assert tsv.to_dict("list") == {"y": [2], "z": [3]}
    with pytest.raises(InvalidInputError, match="not a table"):
        sy.data.load_table(name, path="r.md", client=backend.client)
    with pytest.raises(NotFoundError, match=r"missing\.csv"):
        sy.data.load_table(name, path="missing.csv", client=backend.client)


def test_a_corrupted_table_is_never_read(backend: Backend, name: str) -> None:
    version = sy.data.log_table(_frame(), name, client=backend.client)
    (entry,) = sy.data.files(version, client=backend.client)
    backend.corrupt(entry.digest)
    with pytest.raises(DataCorruptionError):
        sy.data.load_table(version.uri, client=backend.client)


def test_log_table_refuses_what_is_not_a_table(backend: Backend, name: str) -> None:
    with pytest.raises(InvalidInputError, match="expected a pandas DataFrame"):
        sy.data.log_table({"a": [1]}, name, client=backend.client)
    mixed = pd.DataFrame({"m": [1, "two", io.BytesIO()]})
    with pytest.raises(InvalidInputError, match="cannot be stored as a table"):
        sy.data.log_table(mixed, name, client=backend.client)
    with pytest.raises(NotFoundError):
        backend.client.store.get_dataset(name)


def test_log_table_of_a_polars_frame(backend: Backend, name: str) -> None:
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame({"a": [1, None, 3], "b": ["x", "y", None]})
    version = sy.data.log_table(frame, name, client=backend.client)
    back = sy.data.load_table(version.uri, client=backend.client)
    pd.testing.assert_frame_equal(back, frame.to_arrow().to_pandas())
    assert version.profile is not None
    assert version.profile["files"][TABLE_FILE]["columns"]["a"]["missing_count"] == 1
