"""Batch inference over files: chunked, in input order, Parquet and CSV both ways, atomic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.errors import InvalidInputError, NotFoundError, SignatureError
from shipyard.serving.batch_predict import predict_table_file
from tests.serving.support import LinearClassifier, TextScorer


def pixels(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(rows, 4)), columns=["x0", "x1", "x2", "x3"])


def test_a_parquet_file_is_scored_in_chunks_in_order(tmp_path: Path) -> None:
    frame = pixels(25_000)
    source, target = tmp_path / "in.parquet", tmp_path / "out.parquet"
    # Small row groups: the reader must cut and join them into chunks.
    pq.write_table(pa.Table.from_pandas(frame), source, row_group_size=700)
    model = LinearClassifier(features=4)

    result = predict_table_file(model, source, target, chunk_size=1000)

    assert (result.rows, result.chunks, result.output) == (25_000, 25, target)
    assert max(model.calls) <= 1000  # memory stays bounded by the chunk size
    out = pq.read_table(target).to_pandas()
    assert list(out.columns) == ["x0", "x1", "x2", "x3", "prediction"]
    pd.testing.assert_frame_equal(out[frame.columns], frame)
    np.testing.assert_array_equal(out["prediction"], model.expected(frame.to_numpy()))
    assert not list(tmp_path.glob("*.part"))


def test_csv_to_csv_with_probabilities_and_without_inputs(tmp_path: Path) -> None:
    frame = pixels(2_500, seed=1)
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    frame.to_csv(source, index=False)
    model = LinearClassifier(features=4)

    result = predict_table_file(
        model, source, target, chunk_size=300, proba=True, keep_inputs=False
    )

    assert result.rows == 2_500 and max(model.calls) <= 300
    out = pd.read_csv(target)
    assert list(out.columns) == ["prediction", "probability_0", "probability_1", "probability_2"]
    expected = model.expected(frame.to_numpy())
    np.testing.assert_array_equal(out["prediction"], expected)
    proba = out[["probability_0", "probability_1", "probability_2"]].to_numpy()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba.argmax(axis=1), expected)


def test_a_columns_model_reads_csv_and_writes_parquet(tmp_path: Path) -> None:
    source, target = tmp_path / "people.csv", tmp_path / "scores.parquet"
    source.write_text("city,age\nOslo,30\nRome,41\nLima,7\n")
    predict_table_file(TextScorer(), source, target, chunk_size=2, prediction_column="score")
    out = pq.read_table(target).to_pylist()
    assert out == [
        {"city": "Oslo", "age": 30, "score": 70.0},
        {"city": "Rome", "age": 41, "score": 81.0},
        {"city": "Lima", "age": 7, "score": 47.0},
    ]


def test_an_empty_parquet_gives_an_empty_output_with_its_columns(tmp_path: Path) -> None:
    source, target = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(pa.Table.from_pandas(pixels(0)), source)
    result = predict_table_file(LinearClassifier(features=4), source, target)
    assert result.rows == 0
    table = pq.read_table(target)
    assert table.num_rows == 0 and table.column_names == ["x0", "x1", "x2", "x3", "prediction"]


class FailsOnThirdChunk(LinearClassifier):
    def prepare(self, data: Any) -> np.ndarray[Any, Any]:
        if len(self.calls) == 2:
            raise SignatureError("input 'x' holds a NaN in column 2")
        return super().prepare(data)


def test_a_bad_chunk_names_its_rows_and_leaves_no_output(tmp_path: Path) -> None:
    source, target = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(pa.Table.from_pandas(pixels(1000)), source)
    target.write_bytes(b"the previous output")
    with pytest.raises(SignatureError, match=r"rows 200-299: input 'x' holds a NaN"):
        predict_table_file(FailsOnThirdChunk(features=4), source, target, chunk_size=100)
    assert target.read_bytes() == b"the previous output"
    assert not list(tmp_path.glob("*.part"))


def test_user_mistakes_are_refused(tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pandas(pixels(10)), source)
    model = LinearClassifier(features=4)
    with pytest.raises(NotFoundError, match="does not exist"):
        predict_table_file(model, tmp_path / "missing.csv", tmp_path / "o.csv")
    with pytest.raises(InvalidInputError, match=r"\.parquet or \.csv"):
        predict_table_file(model, source, tmp_path / "out.json")
    with pytest.raises(NotFoundError, match="output folder"):
        predict_table_file(model, source, tmp_path / "nowhere" / "out.csv")
    with pytest.raises(InvalidInputError, match="must not be the input"):
        predict_table_file(model, source, source)
    with pytest.raises(InvalidInputError, match="chunk size"):
        predict_table_file(model, source, tmp_path / "o.csv", chunk_size=0)
    with pytest.raises(InvalidInputError, match="already has a column 'x0'"):
        predict_table_file(model, source, tmp_path / "o.csv", prediction_column="x0")
    with pytest.raises(InvalidInputError, match="predict_proba"):
        predict_table_file(TextScorer(), source, tmp_path / "o.csv", proba=True)
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 nope")
    with pytest.raises(InvalidInputError, match="not a readable Parquet"):
        predict_table_file(model, tmp_path / "broken.parquet", tmp_path / "o.csv")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n")
    with pytest.raises(SignatureError, match="rows 0-0"):
        predict_table_file(model, wrong, tmp_path / "o.csv")
    assert not (tmp_path / "o.csv").exists()
