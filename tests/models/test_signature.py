"""Signatures: inferred from examples, and input checked against them with clear errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import shipyard as sy
from shipyard.errors import SignatureError
from shipyard.models import Signature, TensorSpec
from shipyard.models.inputs import as_prepared, prepare_input
from shipyard.models.signature import dtype_name, infer_signature
from tests.models.conftest import Backend, Digits

TABLE = Signature(
    "columns",
    (
        TensorSpec("age", "int64"),
        TensorSpec("city", "str"),
        TensorSpec("income", "float64"),
    ),
)
PIXELS = Signature("tensor", (TensorSpec("input", "float32", (-1, 4)),))
ROWS = [
    {"age": 31, "city": "Oslo", "income": 1.5},
    {"age": 45, "city": "Lima", "income": 2.0},
]


def _sig(example: Any) -> list[str]:
    return [str(s) for s in infer_signature(as_prepared(example)).inputs]


def test_inference_from_every_kind_of_example() -> None:
    import polars as pl
    import pyarrow as pa

    assert _sig(np.zeros((3, 8, 8), dtype=np.float32)) == ["input float32 [-1, 8, 8]"]
    assert _sig([[1, 2], [3, 4]]) == ["input int64 [-1, 2]"]
    expected = ["age int64 [-1]", "city str [-1]", "income float64 [-1]"]
    frame = pd.DataFrame(ROWS)
    assert _sig(frame) == expected
    assert _sig(ROWS) == expected
    assert _sig({"age": [31, 45], "city": ["Oslo", "Lima"], "income": [1.5, 2.0]}) == expected
    assert _sig(pl.from_pandas(frame)) == expected
    assert _sig(pa.Table.from_pandas(frame)) == expected


def test_outputs_are_inferred_from_what_the_model_returned() -> None:
    sig = infer_signature(np.zeros((2, 3)), np.array([1, 0]), np.zeros((2, 2)))
    assert [str(s) for s in sig.outputs] == [
        "predictions int64 [-1]",
        "probabilities float64 [-1, 2]",
    ]
    assert Signature.from_dict(sig.to_dict()) == sig


def test_a_table_prepares_in_signature_order_with_cast_dtypes() -> None:
    frame = pd.DataFrame({"income": [1, 2], "city": ["a", "b"], "age": np.array([3, 4], "int32")})
    prepared = prepare_input(TABLE, frame)
    assert isinstance(prepared, pd.DataFrame)
    assert list(prepared.columns) == ["age", "city", "income"]
    assert [dtype_name(d) for d in prepared.dtypes] == ["int64", "str", "float64"]
    # Prepared inputs of one model concatenate, as a server's batcher does.
    both = pd.concat([prepared, prepare_input(TABLE, ROWS)], ignore_index=True)
    assert list(both["age"]) == [3, 4, 31, 45]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            [{"age": 1, "city": "a", "income": 1.0, "zip": "0150"}],
            "row 0 has column 'zip', which the model does not take",
        ),
        (
            pd.DataFrame({"age": [1], "city": ["a"], "income": [1.0], "zip": ["0150"]}),
            "input has column 'zip', which the model does not take",
        ),
        (pd.DataFrame({"age": [1], "city": ["a"]}), "input is missing column 'income'"),
        (
            [{"age": 1, "city": "a", "income": 1.0}, {"age": 2, "city": "b"}],
            "row 1 is missing column 'income'",
        ),
        ({"age": [1, 2], "city": ["a"], "income": [1.0, 2.0]}, "different lengths"),
        (
            pd.DataFrame({"age": [1.5], "city": ["a"], "income": [1.0]}),
            "column 'age' is float64; the model expects int64, and float64 -> int64 is not a "
            "safe cast",
        ),
        (
            pd.DataFrame({"age": [1], "city": [7], "income": [1.0]}),
            "column 'city' is int64; the model expects str",
        ),
        (
            pd.DataFrame({"age": [1], "city": ["a"], "income": ["rich"]}),
            "column 'income' is str; the model expects float64",
        ),
        (np.zeros((2, 4)), "input dimension 1 has size 4; the model expects 3 columns"),
    ],
)
def test_table_input_errors_name_the_column(data: Any, message: str) -> None:
    with pytest.raises(SignatureError) as caught:
        prepare_input(TABLE, data)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (np.zeros((2, 5)), "input dimension 1 has size 5; the model expects 4"),
        (np.zeros(4), "input has 1 dimension(s) (shape (4,)); the model expects 2"),
        (np.array([["a", "b", "c", "d"]]), "input is str; the model expects float32"),
        ([[1, 2, 3, 4], [1, 2]], "not a rectangular array"),
        (ROWS, "not rows of named columns"),
        (np.zeros((0, 4)), "input has no rows"),
        ({"pixels": np.zeros((1, 4))}, "the model's input is named 'input', not 'pixels'"),
    ],
)
def test_tensor_input_errors_name_the_dimension(data: Any, message: str) -> None:
    with pytest.raises(SignatureError) as caught:
        prepare_input(PIXELS, data)
    assert message in str(caught.value)


def test_safe_casts_are_made_and_unsafe_ones_refused() -> None:
    as_float = prepare_input(PIXELS, np.arange(8).reshape(2, 4))  # int -> float
    assert as_float.dtype == np.float32
    assert prepare_input(PIXELS, np.ones((1, 4))).dtype == np.float32  # JSON floats
    assert prepare_input(PIXELS, {"input": [[1, 2, 3, 4]]}).shape == (1, 4)
    narrow = Signature("tensor", (TensorSpec("input", "int32", (-1, 2)),))
    assert prepare_input(narrow, np.array([[1, 2]], dtype=np.int64)).dtype == np.int32
    with pytest.raises(SignatureError, match="int64 -> int32 is not a safe cast"):
        prepare_input(narrow, np.array([[2**40, 1]]))
    with pytest.raises(SignatureError, match="float64 -> int32 is not a safe cast"):
        prepare_input(narrow, np.array([[1.0, 2.0]]))


def test_a_loaded_model_checks_its_input(
    local: Backend, digits: Digits, digits_classifier: Any
) -> None:
    with local.run() as run:
        info = run.log_model(digits_classifier, input_example=digits.x[:2])
    model = sy.models.load(info.uri)
    with pytest.raises(SignatureError, match="dimension 1 has size 63; the model expects 64"):
        model.predict(digits.x[:, :63])
    with pytest.raises(SignatureError, match="input is str; the model expects float64"):
        model.predict(digits.x.astype(str))
    np.testing.assert_array_equal(
        model.predict(digits.x.astype(np.int64)), digits_classifier.predict(digits.x)
    )


def test_a_given_signature_wins_and_the_example_must_fit_it(
    local: Backend, iris_frame: pd.DataFrame, iris_pipeline: Any
) -> None:
    features = iris_frame.drop(columns="species")
    given = Signature(
        "columns",
        tuple(TensorSpec(c, "str" if c == "size" else "float64", (-1,)) for c in features.columns),
    )
    with local.run() as run:
        info = run.log_model(iris_pipeline, input_example=features.head(3), signature=given)
        assert info.signature.inputs == given.inputs
        assert info.signature.output_names == ["predictions", "probabilities"]
        wrong = Signature("columns", (TensorSpec("sepal_length", "float64"),))
        with pytest.raises(SignatureError, match="input example does not fit the signature"):
            run.log_model(iris_pipeline, name="other", input_example=features, signature=wrong)


def test_nullable_categorical_and_odd_tables() -> None:
    frame = pd.DataFrame(
        {
            "age": pd.array([3, 4], dtype="Int64"),
            "city": pd.Categorical(["a", "b"]),
            "income": pd.array([1.5, None], dtype="Float64"),
        }
    )
    prepared = prepare_input(TABLE, frame)
    assert list(prepared["age"]) == [3, 4]
    assert list(prepared["city"]) == ["a", "b"]
    assert prepared["income"].isna().tolist() == [False, True]
    with pytest.raises(SignatureError, match="column 'age' is mixed values"):
        prepare_input(TABLE, frame.assign(age=pd.array([3, None], dtype="Int64")))
    twice = pd.DataFrame([[1, "a", 1.0, 2.0]], columns=["age", "city", "income", "income"])
    with pytest.raises(SignatureError, match="column 'income' more than once"):
        prepare_input(TABLE, twice)
    one_row = prepare_input(TABLE, {"age": 1, "city": "a", "income": 2.0})
    assert len(one_row) == 1
    # The caller's table is left as it was.
    assert list(frame.columns) == ["age", "city", "income"]
