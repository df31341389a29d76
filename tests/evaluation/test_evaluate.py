"""``sy.evaluate`` on real registered models and dataset versions, on SQLite and over REST."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import polars as pl
import pytest
from PIL import Image
from sklearn import metrics as skm
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

import shipyard as sy
from shipyard.errors import InvalidInputError, NotFoundError, SignatureError
from shipyard.evaluation.evaluate import evaluate
from tests.evaluation.conftest import Backend, Digits, Registered


def test_scores_a_registered_version_on_a_dataset_version(
    backend: Backend, digits: Digits, registered: Registered
) -> None:
    result = evaluate(
        f"models:/{registered.name}/2", registered.data, "label", client=backend.client
    )
    predicted = digits.good.predict(digits.x_test)
    proba = digits.good.predict_proba(digits.x_test)
    assert result.task == "classification" and result.row_count == len(digits.y_test)
    assert result.metrics["accuracy"] == pytest.approx(skm.accuracy_score(digits.y_test, predicted))
    assert result["f1_macro"] == pytest.approx(
        skm.f1_score(digits.y_test, predicted, average="macro")
    )
    assert result.metrics["roc_auc"] == pytest.approx(
        skm.roc_auc_score(digits.y_test, proba, multi_class="ovr")
    )
    assert result.metrics["log_loss"] == pytest.approx(skm.log_loss(digits.y_test, proba))
    assert result.details["confusion_matrix"] == (
        skm.confusion_matrix(digits.y_test, predicted).tolist()
    )
    assert result.model_uri == f"models:/{registered.name}/2"
    assert result.dataset_uri == f"datasets:/{registered.name}-test/1"

    stored = backend.client.store.get_evaluation(result.id)
    assert stored == result.evaluation
    assert (stored.model_name, stored.model_version) == (registered.name, 2)
    assert (stored.dataset, stored.dataset_version) == (f"{registered.name}-test", 1)
    assert [e.id for e in backend.client.store.list_evaluations(registered.name, 2)] == [result.id]
    assert set(result.plots) == {"confusion_matrix.png", "roc_curves.png"}
    for name in result.plots:
        with Image.open(io.BytesIO(result.plot_bytes(name, client=backend.client))) as image:
            assert image.format == "PNG" and image.size[0] > 300
    assert "f1_macro" in result.summary()


def test_inside_a_run_the_dataset_version_becomes_an_input(
    backend: Backend, registered: Registered
) -> None:
    with sy.start_run(experiment=registered.name) as run:
        sy.evaluate(f"models:/{registered.name}@latest", registered.data, "label", plots=False)
    inputs = backend.client.store.get_run_inputs(run.id)
    assert [(i.dataset, i.version) for i in inputs] == [(f"{registered.name}-test", 1)]


def test_dataframes_slices_and_run_uris(
    backend: Backend, digits: Digits, registered: Registered
) -> None:
    frame = digits.test_frame()
    frame["parity"] = np.where(digits.y_test % 2 == 0, "even", "odd")
    frame = frame.iloc[:200]
    run_uri = f"runs:/{registered.run_id}/good"
    result = evaluate(run_uri, frame, "label", slice_by="parity", plots=False)
    assert result.plots == {}
    assert result.evaluation.dataset is None and result.evaluation.model_name is None
    assert result.model_uri == run_uri
    slices = {s["value"]: s for s in result.details["slices"]["slices"]}
    assert set(slices) == {"even", "odd"}
    even = frame["parity"] == "even"
    predicted = digits.good.predict(digits.x_test[:200])
    assert slices["even"]["row_count"] == int(even.sum())
    assert slices["even"]["metrics"]["accuracy"] == pytest.approx(
        skm.accuracy_score(frame["label"][even], predicted[even.to_numpy()])
    )
    polars = evaluate(run_uri, pl.from_pandas(frame.drop(columns="parity")), "label", plots=False)
    assert polars.metrics == pytest.approx({k: v for k, v in result.metrics.items()}, rel=1e-12)


def test_regression(backend: Backend, tmp_path: object) -> None:
    x, y = load_diabetes(return_X_y=True, as_frame=True)
    model = Ridge(alpha=0.1).fit(x[:300], y[:300])
    test = x[300:].assign(progression=y[300:])
    version = sy.data.log_table(test, f"diabetes-{id(model)}", client=backend.client)
    with sy.start_run(experiment="diabetes") as run:
        info = run.log_model(model, input_example=x[:3])
    result = sy.evaluate(info.uri, version.uri, "progression", client=backend.client)
    predicted = model.predict(x[300:])
    assert result.task == "regression"
    assert result.metrics["rmse"] == pytest.approx(
        np.sqrt(skm.mean_squared_error(y[300:], predicted))
    )
    assert result.metrics["mae"] == pytest.approx(skm.mean_absolute_error(y[300:], predicted))
    assert result.metrics["r2"] == pytest.approx(skm.r2_score(y[300:], predicted))
    assert result.metrics["mape"] == pytest.approx(
        skm.mean_absolute_percentage_error(y[300:], predicted)
    )
    assert set(result.plots) == {"predicted_vs_actual.png", "residuals.png"}
    assert backend.client.blob_store.exists(result.plots["residuals.png"])


def test_user_errors(backend: Backend, registered: Registered) -> None:
    uri = f"models:/{registered.name}/1"
    with pytest.raises(InvalidInputError, match="target column 'y' is not in the table"):
        evaluate(uri, registered.data, "y")
    with pytest.raises(InvalidInputError, match="unknown task"):
        evaluate(uri, registered.data, "label", task="ranking")
    with pytest.raises(InvalidInputError, match="missing value"):
        evaluate(uri, pd.DataFrame({"px0": [1.0], "label": [None]}), "label")
    with pytest.raises(SignatureError):
        evaluate(uri, pd.DataFrame({"px0": [1.0], "label": [1]}), "label")
    with pytest.raises(NotFoundError):
        evaluate(uri, f"datasets:/{registered.name}-nope@latest", "label")
    with pytest.raises(InvalidInputError, match="dataset URI"):
        evaluate(uri, 42, "label")
