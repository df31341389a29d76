"""The model families of the sweep and how each one trains.

Each family trains in its natural loop and reports the history it has:
a forest its out-of-bag accuracy as trees are added, boosting its accuracy
after each stage, a neural network its loss and validation accuracy per
epoch. Every family is also cross-validated (one point per fold).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.svm import SVC

from shipyard.demo.data import Digits

# (metric key, value, step): how a training loop reports one point of history.
LogPoint = Callable[[str, float, int], None]
Settings = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Family:
    """A kind of model, the settings the sweep tries, and how to train one."""

    kind: str
    title: str
    settings: tuple[Settings, ...]
    build: Callable[[Settings, int], ClassifierMixin]
    # Trains a fresh model on the training split, reporting history as it goes.
    fit: Callable[[Settings, Digits, LogPoint], ClassifierMixin]


def _plain_fit(
    family_build: Callable[[Settings, int], ClassifierMixin],
) -> Callable[[Settings, Digits, LogPoint], ClassifierMixin]:
    def fit(settings: Settings, data: Digits, log: LogPoint) -> ClassifierMixin:
        model = family_build(settings, data.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(data.x_train, data.y_train)
        return model

    return fit


def _logreg(settings: Settings, seed: int) -> ClassifierMixin:
    return LogisticRegression(C=settings["C"], max_iter=settings.get("max_iter", 300))


def _svm(settings: Settings, seed: int) -> ClassifierMixin:
    return SVC(C=settings["C"], gamma=settings["gamma"], kernel="rbf")


def _knn(settings: Settings, seed: int) -> ClassifierMixin:
    return KNeighborsClassifier(n_neighbors=settings["n_neighbors"], weights=settings["weights"])


def _forest(settings: Settings, seed: int) -> ClassifierMixin:
    return RandomForestClassifier(
        n_estimators=settings["n_estimators"],
        max_depth=settings["max_depth"],
        max_features=settings["max_features"],
        random_state=seed,
        n_jobs=-1,
    )


def _fit_forest(settings: Settings, data: Digits, log: LogPoint) -> ClassifierMixin:
    """Grow the forest in steps, logging out-of-bag accuracy against the number of trees."""
    total = int(settings["n_estimators"])
    step = max(total // 8, 5)
    model = RandomForestClassifier(
        n_estimators=0,
        max_depth=settings["max_depth"],
        max_features=settings["max_features"],
        random_state=data.seed,
        warm_start=True,
        oob_score=True,
        n_jobs=-1,
    )
    trees = 0
    while trees < total:
        trees = min(trees + step, total)
        model.set_params(n_estimators=trees)
        with warnings.catch_warnings():
            # A handful of trees leaves some samples without an out-of-bag vote.
            warnings.simplefilter("ignore", UserWarning)
            model.fit(data.x_train, data.y_train)
        log("oob_accuracy", float(model.oob_score_), trees)
    return model


def _boosting(settings: Settings, seed: int) -> ClassifierMixin:
    return HistGradientBoostingClassifier(
        learning_rate=settings["learning_rate"],
        max_iter=settings["max_iter"],
        max_leaf_nodes=settings["max_leaf_nodes"],
        early_stopping=False,
        random_state=seed,
    )


def _fit_boosting(settings: Settings, data: Digits, log: LogPoint) -> ClassifierMixin:
    """Fit, then replay the stages: held-out accuracy after each boosting iteration."""
    model = _boosting(settings, data.seed)
    model.fit(data.x_train, data.y_train)
    staged = model.staged_predict(data.x_test)
    for iteration, predicted in enumerate(staged, start=1):
        log("staged_test_accuracy", float(np.mean(predicted == data.y_test)), iteration)
    return model


def _mlp(settings: Settings, seed: int) -> ClassifierMixin:
    return MLPClassifier(
        hidden_layer_sizes=tuple(settings["hidden"]),
        alpha=settings["alpha"],
        learning_rate_init=settings["learning_rate"],
        max_iter=settings["epochs"],
        random_state=seed,
    )


def _fit_mlp(settings: Settings, data: Digits, log: LogPoint) -> ClassifierMixin:
    """A real epoch loop: one pass over the training data, then a validation score."""
    x_fit, x_val, y_fit, y_val = train_test_split(
        data.x_train, data.y_train, test_size=0.15, stratify=data.y_train, random_state=data.seed
    )
    model = MLPClassifier(
        hidden_layer_sizes=tuple(settings["hidden"]),
        alpha=settings["alpha"],
        learning_rate_init=settings["learning_rate"],
        random_state=data.seed,
    )
    classes = np.array(data.classes)
    for epoch in range(1, int(settings["epochs"]) + 1):
        model.partial_fit(x_fit, y_fit, classes=classes)
        log("train_loss", float(model.loss_), epoch)
        log("val_accuracy", float(model.score(x_val, y_val)), epoch)
    return model


def families(quick: bool) -> list[Family]:
    """The sweep: several settings for each kind; ``quick`` is a tiny one for smoke tests."""
    if quick:
        return [
            Family("logreg", "Logistic regression", ({"C": 1.0},), _logreg, _plain_fit(_logreg)),
            Family(
                "svm",
                "SVM (RBF kernel)",
                ({"C": 1.0, "gamma": "scale"}, {"C": 10.0, "gamma": "scale"}),
                _svm,
                _plain_fit(_svm),
            ),
            Family(
                "random_forest",
                "Random forest",
                ({"n_estimators": 20, "max_depth": None, "max_features": "sqrt"},),
                _forest,
                _fit_forest,
            ),
        ]
    return [
        Family(
            "logreg",
            "Logistic regression",
            ({"C": 0.1}, {"C": 1.0}, {"C": 10.0}),
            _logreg,
            _plain_fit(_logreg),
        ),
        Family(
            "svm",
            "SVM (RBF kernel)",
            (
                {"C": 1.0, "gamma": "scale"},
                {"C": 10.0, "gamma": "scale"},
                {"C": 10.0, "gamma": 0.01},
            ),
            _svm,
            _plain_fit(_svm),
        ),
        Family(
            "knn",
            "k-nearest neighbours",
            (
                {"n_neighbors": 1, "weights": "uniform"},
                {"n_neighbors": 3, "weights": "distance"},
                {"n_neighbors": 7, "weights": "distance"},
            ),
            _knn,
            _plain_fit(_knn),
        ),
        Family(
            "random_forest",
            "Random forest",
            (
                {"n_estimators": 200, "max_depth": None, "max_features": "sqrt"},
                {"n_estimators": 200, "max_depth": 8, "max_features": "sqrt"},
                {"n_estimators": 200, "max_depth": None, "max_features": 0.25},
            ),
            _forest,
            _fit_forest,
        ),
        Family(
            "boosting",
            "Gradient boosting (histogram)",
            (
                {"learning_rate": 0.1, "max_iter": 100, "max_leaf_nodes": 15},
                {"learning_rate": 0.3, "max_iter": 100, "max_leaf_nodes": 15},
            ),
            _boosting,
            _fit_boosting,
        ),
        Family(
            "mlp",
            "Neural network (MLP)",
            (
                {"hidden": [64], "alpha": 1e-4, "learning_rate": 1e-3, "epochs": 40},
                {"hidden": [128, 64], "alpha": 1e-3, "learning_rate": 1e-3, "epochs": 40},
            ),
            _mlp,
            _fit_mlp,
        ),
    ]
