"""Real digits classifiers, logged and registered in a real store (SQLite, or a live server).

The estimators are trained once per session; each test registers them anew under
its own model name, so the tests share nothing in the (session-wide) server.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

import shipyard as sy
from shipyard.entities import DatasetVersion
from tests.data.conftest import Backend, _server, backend

__all__ = ["Backend", "Digits", "Registered", "_server", "backend"]

PIXELS = [f"px{i}" for i in range(64)]


@dataclass(frozen=True)
class Digits:
    x_train: np.ndarray[Any, Any]
    y_train: np.ndarray[Any, Any]
    x_test: np.ndarray[Any, Any]
    y_test: np.ndarray[Any, Any]
    good: LogisticRegression  # about 0.95 accuracy
    fair: DecisionTreeClassifier  # depth 6: about 0.8
    tiny: DecisionTreeClassifier  # depth 2: about 0.3

    def test_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.x_test, columns=PIXELS)
        frame["label"] = self.y_test
        return frame


@pytest.fixture(scope="session")
def digits() -> Digits:
    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    x, y = x[order], y[order]
    x_train, y_train, x_test, y_test = x[:1300], y[:1300], x[1300:], y[1300:]
    return Digits(
        x_train,
        y_train,
        x_test,
        y_test,
        LogisticRegression(max_iter=3000).fit(x_train, y_train),
        DecisionTreeClassifier(max_depth=6, random_state=0).fit(x_train, y_train),
        DecisionTreeClassifier(max_depth=2, random_state=0).fit(x_train, y_train),
    )


@dataclass(frozen=True)
class Registered:
    """A model name with versions 1 (fair tree), 2 (logistic regression), 3 (tiny tree),
    and a dataset version holding the test split."""

    name: str
    dataset: DatasetVersion
    run_id: str

    @property
    def data(self) -> str:
        return f"datasets:/{self.dataset.dataset}@latest"


def register_digits(backend: Backend, digits: Digits) -> Registered:
    name = f"digits-{uuid.uuid4().hex[:8]}"
    train = sy.data.log_table(
        pd.DataFrame(digits.x_train, columns=PIXELS).assign(label=digits.y_train),
        f"{name}-train",
        client=backend.client,
    )
    test = sy.data.log_table(digits.test_frame(), f"{name}-test", client=backend.client)
    with sy.start_run(experiment=name) as run:
        run.use_dataset(train)
        run.log_params({"models": "tree-6, logreg, tree-2"})
        run.log_metric("train_rows", float(len(digits.y_train)))
        example = digits.x_train[:3]
        for path, model in (("fair", digits.fair), ("good", digits.good), ("tiny", digits.tiny)):
            run.log_model(model, name=path, input_example=example, registered_model_name=name)
    return Registered(name, test, run.id)


@pytest.fixture
def registered(backend: Backend, digits: Digits) -> Registered:
    return register_digits(backend, digits)
