"""Model tests run against a local SQLite store and a live ``shipyard server``.

Models are trained once per session on scikit-learn's bundled digits and iris
data (nothing downloads); each test logs them into its own run.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import shipyard as sy
from shipyard.store.rest.blobs import RestBlobStore
from shipyard.store.rest.http import RetryPolicy
from tests.support.blobs import corrupt_blob
from tests.support.live_server import live_server
from tests.tracking.conftest import _no_leftover_runs

__all__ = ["Backend", "_no_leftover_runs"]

QUICK = RetryPolicy(attempts=2, base_delay=0.05, max_delay=0.1, deadline=0.5)


@dataclass
class Backend:
    kind: str
    uri: str
    blob_root: Path
    client: sy.Client

    def run(self) -> sy.ActiveRun:
        return self.client.start_run(experiment="models", capture=False)

    def corrupt(self, digest: str) -> None:
        """Flip one byte of a stored blob (loose or packed), in place, as a failing disk would."""
        corrupt_blob(self.blob_root, digest)


@pytest.fixture(scope="session")
def _server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("models-server")
    with live_server(str(folder / "store"), str(folder / "artifacts")) as url:
        yield url, folder / "artifacts"


@pytest.fixture(params=["sqlite", "rest"])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Backend]:
    if request.param == "sqlite":
        uri = str(tmp_path / "store")
        blob_root = tmp_path / "store" / "artifacts"
    else:
        uri, blob_root = request.getfixturevalue("_server")
    monkeypatch.setenv("SHIPYARD_URI", uri)
    # Each test its own model cache, so that a test's downloads are its own.
    monkeypatch.setenv("SHIPYARD_CACHE_DIR", str(tmp_path / "cache"))
    blobs = RestBlobStore(uri, retry=QUICK) if request.param == "rest" else None
    with sy.Client(uri, blob_store=blobs) as client:
        yield Backend(request.param, uri, blob_root, client)


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    """A SQLite store only, for tests whose subject is not the store."""
    uri = str(tmp_path / "store")
    monkeypatch.setenv("SHIPYARD_URI", uri)
    monkeypatch.setenv("SHIPYARD_CACHE_DIR", str(tmp_path / "cache"))
    with sy.Client(uri) as client:
        yield Backend("sqlite", uri, tmp_path / "store" / "artifacts", client)


@pytest.fixture
def model_name() -> str:
    """A registered model name no other test uses (the REST store is shared)."""
    return f"m-{uuid.uuid4().hex[:10]}"


# -- data and models, trained once ---------------------------------------------------


@dataclass(frozen=True)
class Digits:
    x: np.ndarray[Any, Any]
    y: np.ndarray[Any, Any]


@pytest.fixture(scope="session")
def digits() -> Digits:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return Digits(x[:600], y[:600])


@pytest.fixture(scope="session")
def digits_classifier(digits: Digits) -> Any:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LogisticRegression(max_iter=300).fit(digits.x, digits.y)


@pytest.fixture(scope="session")
def iris_frame() -> pd.DataFrame:
    """Iris with an int column and a text column, so a table has three dtypes."""
    from sklearn.datasets import load_iris

    iris = load_iris(as_frame=True)
    frame = iris.data.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    frame["petal_bucket"] = (frame["petal_length"] * 2).round().astype("int64")
    frame["size"] = np.where(frame["sepal_length"] > 5.8, "large", "small").astype(object)
    frame["species"] = iris.target
    return frame


@pytest.fixture(scope="session")
def iris_pipeline(iris_frame: pd.DataFrame) -> Any:
    """A classifier on a DataFrame: scaled numbers, one-hot text, through a ColumnTransformer."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    features = iris_frame.drop(columns="species")
    numeric = ["sepal_length", "sepal_width", "petal_length", "petal_width", "petal_bucket"]
    prep = ColumnTransformer(
        [("num", StandardScaler(), numeric), ("cat", OneHotEncoder(), ["size"])]
    )
    pipe = Pipeline([("prep", prep), ("clf", LogisticRegression(max_iter=500))])
    return pipe.fit(features, iris_frame["species"])


@pytest.fixture(scope="session")
def iris_regressor(iris_frame: pd.DataFrame) -> Any:
    """Petal width from the other measurements, on a plain array."""
    from sklearn.linear_model import Ridge

    x = iris_frame[["sepal_length", "sepal_width", "petal_length"]].to_numpy()
    return Ridge().fit(x, iris_frame["petal_width"].to_numpy())


class ThresholdModel:
    """A plain Python model: class 1 where the row sum passes a threshold."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def predict(self, x: Any) -> np.ndarray[Any, Any]:
        return (np.asarray(x).sum(axis=1) > self.threshold).astype(np.int64)

    def predict_proba(self, x: Any) -> np.ndarray[Any, Any]:
        p = 1 / (1 + np.exp(self.threshold - np.asarray(x).sum(axis=1)))
        return np.column_stack([1 - p, p])
