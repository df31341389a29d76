"""Each flavor's round trip: log, load by ``runs:/``, and get the original's predictions."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

import shipyard as sy
from shipyard.errors import InvalidInputError
from shipyard.models.manifest import MANIFEST_FILE
from shipyard.store.hashing import hash_bytes
from tests.models.conftest import Backend, Digits, ThresholdModel


def test_sklearn_classifier_round_trip(
    backend: Backend, digits: Digits, digits_classifier: Any
) -> None:
    with backend.run() as run:
        info = run.log_model(digits_classifier, input_example=digits.x[:5])
    assert info.uri == f"runs:/{run.id}/model"
    assert info.flavor == "sklearn"

    model = sy.models.load(info.uri, client=backend.client)
    assert model.flavor == "sklearn"
    assert model.run_id == run.id
    assert model.package_digest == info.package_digest
    np.testing.assert_array_equal(model.predict(digits.x), digits_classifier.predict(digits.x))
    np.testing.assert_array_equal(
        model.predict_proba(digits.x), digits_classifier.predict_proba(digits.x)
    )
    sig = model.signature
    assert sig.kind == "tensor"
    assert [str(s) for s in sig.inputs] == ["input float64 [-1, 64]"]
    assert [str(s) for s in sig.outputs] == [
        "predictions int64 [-1]",
        "probabilities float64 [-1, 10]",
    ]
    np.testing.assert_array_equal(model.input_example, digits.x[:5])


def test_the_manifest_records_files_environment_and_lineage(
    backend: Backend, digits: Digits, digits_classifier: Any, tmp_path: Any
) -> None:
    data_file = tmp_path / "digits.csv"
    data_file.write_text("a,b\n1,2\n")
    name = f"digits-{backend.kind}-{tmp_path.name}"[:60]
    version = sy.data.add(data_file, name=name, client=backend.client)
    with backend.run() as run:
        run.use_dataset(version)
        info = run.log_model(digits_classifier, input_example=digits.x[:3])

    raw = backend.client.read_artifact(run.id, f"model/{MANIFEST_FILE}")
    assert hash_bytes(raw) == info.package_digest
    manifest = json.loads(raw)
    assert manifest == info.manifest
    assert manifest["format"] == 1
    assert manifest["flavor"] == "sklearn"
    assert manifest["run_id"] == run.id
    assert manifest["artifact_path"] == "model"
    assert manifest["datasets"] == [{"dataset": name, "version": 1}]
    assert manifest["predict_proba"] is True
    assert manifest["input_example"] == "input_example.json"
    assert isinstance(manifest["flavor_options"]["trusted_types"], list)
    packages = manifest["environment"]["packages"]
    import sklearn

    assert packages["scikit-learn"] == sklearn.__version__
    assert packages["numpy"] == np.__version__
    assert "skops" in packages
    assert manifest["environment"]["python"].count(".") == 2
    # Every file the manifest lists is the artifact of that name, byte for byte.
    listed = {e.path: e for e in backend.client.list_artifacts(run.id, "model")}
    assert set(listed) == {
        "model/model.skops",
        "model/input_example.json",
        f"model/{MANIFEST_FILE}",
    }
    for file, entry in manifest["files"].items():
        assert listed[f"model/{file}"].digest == entry["digest"]
        assert listed[f"model/{file}"].size == entry["size"]


def test_sklearn_regressor_without_an_example(
    backend: Backend, iris_frame: pd.DataFrame, iris_regressor: Any
) -> None:
    x = iris_frame[["sepal_length", "sepal_width", "petal_length"]].to_numpy()
    with backend.run() as run:
        info = run.log_model(iris_regressor, name="regressor")
    assert [str(s) for s in info.signature.inputs] == ["input float64 [-1, 3]"]
    assert info.signature.outputs == ()
    assert info.manifest["input_example"] is None

    model = sy.models.load(f"runs:/{run.id}/regressor", client=backend.client)
    np.testing.assert_array_equal(model.predict(x), iris_regressor.predict(x))
    assert model.input_example is None
    assert not model.has_predict_proba
    with pytest.raises(InvalidInputError, match="has no predict_proba"):
        model.predict_proba(x)


def test_pipeline_with_a_column_transformer_on_a_dataframe(
    backend: Backend, iris_frame: pd.DataFrame, iris_pipeline: Any
) -> None:
    features = iris_frame.drop(columns="species")
    with backend.run() as run:
        info = run.log_model(iris_pipeline, input_example=features.head(5))
    assert info.signature.kind == "columns"
    assert [str(s) for s in info.signature.inputs] == [
        "sepal_length float64 [-1]",
        "sepal_width float64 [-1]",
        "petal_length float64 [-1]",
        "petal_width float64 [-1]",
        "petal_bucket int64 [-1]",
        "size str [-1]",
    ]

    model = sy.models.load(info.uri, client=backend.client)
    expected = iris_pipeline.predict(features)
    np.testing.assert_array_equal(model.predict(features), expected)
    np.testing.assert_array_equal(model.predict(features.to_dict("records")), expected)
    np.testing.assert_array_equal(model.predict(features.to_dict("list")), expected)
    np.testing.assert_array_equal(model.predict(features[features.columns[::-1]]), expected)
    np.testing.assert_allclose(model.predict_proba(features), iris_pipeline.predict_proba(features))
    example = model.input_example
    assert isinstance(example, pd.DataFrame)
    assert list(example.columns) == list(features.columns)
    np.testing.assert_array_equal(model.predict(example), expected[:5])


def test_polars_and_arrow_tables_predict_like_pandas(
    local: Backend, iris_frame: pd.DataFrame, iris_pipeline: Any
) -> None:
    import polars as pl
    import pyarrow as pa

    features = iris_frame.drop(columns="species")
    with local.run() as run:
        info = run.log_model(iris_pipeline, input_example=pl.from_pandas(features.head(3)))
    model = sy.models.load(info.uri)
    expected = iris_pipeline.predict(features)
    np.testing.assert_array_equal(model.predict(pl.from_pandas(features)), expected)
    np.testing.assert_array_equal(model.predict(pa.Table.from_pandas(features)), expected)


def test_onnx_converted_from_sklearn(
    backend: Backend, digits: Digits, digits_classifier: Any
) -> None:
    with backend.run() as run:
        info = run.log_model(
            digits_classifier, name="onnx", flavor="onnx", input_example=digits.x[:5]
        )
    assert info.flavor == "onnx"
    # onnxruntime computes in float32: the signature says so, and float64 input is cast.
    assert [str(s) for s in info.signature.inputs] == ["input float32 [-1, 64]"]
    assert info.manifest["flavor_options"]["converted_from"] == "sklearn"
    assert "onnxruntime" in info.manifest["environment"]["packages"]

    model = sy.models.load(info.uri, client=backend.client)
    np.testing.assert_array_equal(model.predict(digits.x), digits_classifier.predict(digits.x))
    np.testing.assert_allclose(
        model.predict_proba(digits.x), digits_classifier.predict_proba(digits.x), atol=1e-4
    )


def test_onnx_pipeline_on_a_dataframe(
    local: Backend, iris_frame: pd.DataFrame, iris_pipeline: Any
) -> None:
    features = iris_frame.drop(columns="species")
    with local.run() as run:
        info = run.log_model(iris_pipeline, flavor="onnx", input_example=features.head(5))
    assert info.signature.kind == "columns"
    model = sy.models.load(info.uri)
    np.testing.assert_array_equal(model.predict(features), iris_pipeline.predict(features))
    np.testing.assert_allclose(
        model.predict_proba(features), iris_pipeline.predict_proba(features), atol=1e-4
    )


def _affine_onnx() -> Any:
    """y = x @ W + b, built with onnx.helper: an ONNX model that no converter made."""
    from onnx import TensorProto, helper, numpy_helper

    w = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    b = np.array([1.0, -1.0, 0.5], dtype=np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W"], ["xw"]),
            helper.make_node("Add", ["xw", "B"], ["y"]),
        ],
        "affine",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 3])],
        [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model, w, b


@pytest.mark.parametrize("as_bytes", [False, True])
def test_onnx_model_proto_or_bytes(local: Backend, as_bytes: bool) -> None:
    proto, w, b = _affine_onnx()
    x = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    with local.run() as run:
        info = run.log_model(proto.SerializeToString() if as_bytes else proto, input_example=x[:2])
    assert info.flavor == "onnx"
    assert [str(s) for s in info.signature.inputs] == ["x float32 [-1, 4]"]
    assert [str(s) for s in info.signature.outputs] == ["predictions float32 [-1, 3]"]
    model = sy.models.load(info.uri)
    np.testing.assert_allclose(model.predict(x), x @ w + b, rtol=1e-5)
    np.testing.assert_allclose(model.predict(x.astype(np.float64)), x @ w + b, rtol=1e-5)
    assert not model.has_predict_proba


def test_python_model_round_trip(backend: Backend) -> None:
    original = ThresholdModel(threshold=3.0)
    x = np.random.default_rng(1).uniform(size=(30, 6))
    with backend.run() as run:
        info = run.log_model(original, input_example=x)
    assert info.flavor == "python"
    assert "cloudpickle" in info.manifest["environment"]["packages"]
    model = sy.models.load(info.uri, trust=True, client=backend.client)
    np.testing.assert_array_equal(model.predict(x), original.predict(x))
    np.testing.assert_allclose(model.predict_proba(x), original.predict_proba(x))
    assert isinstance(model.raw, ThresholdModel)
    np.testing.assert_array_equal(model.input_example, x[:20])  # an example, not the data


def test_fluent_log_model_and_flavor_names(
    local: Backend, digits: Digits, digits_classifier: Any
) -> None:
    with sy.start_run(experiment="fluent", capture=False) as run:
        info = sy.log_model(digits_classifier, name="clf", input_example=digits.x[:2])
        pyfunc = sy.log_model(digits_classifier, name="pickled", flavor="pyfunc")
    assert info.uri == f"runs:/{run.id}/clf"
    assert pyfunc.flavor == "python"
    with (
        sy.start_run(experiment="fluent", capture=False),
        pytest.raises(InvalidInputError, match="unknown model flavor 'keras'"),
    ):
        sy.log_model(digits_classifier, flavor="keras")


def test_what_cannot_be_a_model_is_refused(local: Backend) -> None:
    with local.run() as run:
        with pytest.raises(InvalidInputError, match="cannot log a dict as a model"):
            run.log_model({"weights": [1, 2]})
        with pytest.raises(InvalidInputError, match="input_example"):
            run.log_model(ThresholdModel(1.0))  # no example, no signature: input unknown
    assert local.client.list_artifacts(run.id) == []
