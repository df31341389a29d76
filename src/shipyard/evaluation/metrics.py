"""Scores of predictions against the truth, as pure functions over arrays.

Classification: ``accuracy``, ``precision`` / ``recall`` / ``f1`` (``_macro`` and
``_weighted``), and where class probabilities exist ``roc_auc`` (one-vs-rest,
macro over the classes present in ``y_true``; for two classes the usual AUC)
and ``log_loss``. Regression: ``mae``, ``rmse``, ``r2``, ``mape``.

A score that the data cannot define (ROC AUC when ``y_true`` holds one class,
R² of fewer than two rows) is left out of ``metrics`` and named in
``details["notes"]``, so that every stored score is a finite number.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from shipyard.errors import InvalidInputError

__all__ = [
    "CLASSIFICATION_METRICS",
    "LOWER_IS_BETTER",
    "REGRESSION_METRICS",
    "TASKS",
    "Scores",
    "Task",
    "classification_scores",
    "greater_is_better",
    "known_metrics",
    "regression_scores",
    "scores",
    "sliced_scores",
]

Task = Literal["classification", "regression"]
TASKS: tuple[Task, ...] = ("classification", "regression")

CLASSIFICATION_METRICS = (
    "accuracy",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
    "roc_auc",
    "log_loss",
)
REGRESSION_METRICS = ("mae", "rmse", "r2", "mape")
LOWER_IS_BETTER = frozenset({"mae", "rmse", "log_loss", "mape"})

# Past these sizes the details would outgrow a database row: per-class tables stay,
# the full confusion matrix goes.
MAX_MATRIX_CLASSES = 100
MAX_SLICES = 100

Array = np.ndarray[Any, Any]


@dataclass(frozen=True, slots=True)
class Scores:
    """Finite scalar scores, and the structured rest (confusion matrix, labels, notes)."""

    metrics: dict[str, float]
    details: dict[str, Any] = field(default_factory=dict)


def greater_is_better(metric: str) -> bool:
    """Which way a metric improves: errors and losses go down, everything else goes up."""
    return metric not in LOWER_IS_BETTER


def known_metrics(task: str | None = None) -> tuple[str, ...]:
    if task == "classification":
        return CLASSIFICATION_METRICS
    if task == "regression":
        return REGRESSION_METRICS
    return CLASSIFICATION_METRICS + REGRESSION_METRICS


def check_task(task: str) -> Task:
    if task == "classification":
        return "classification"
    if task == "regression":
        return "regression"
    raise InvalidInputError(f"unknown task {task!r}: use 'classification' or 'regression'")


def scores(
    task: str,
    y_true: Any,
    y_pred: Any,
    proba: Any | None = None,
    classes: Sequence[Any] | None = None,
) -> Scores:
    if check_task(task) == "classification":
        return classification_scores(y_true, y_pred, proba, classes)
    return regression_scores(y_true, y_pred)


# -- classification ----------------------------------------------------------------
def _labels(y_true: Array, y_pred: Array, classes: Sequence[Any] | None) -> list[Any]:
    seen = set(y_true.tolist()) | set(y_pred.tolist()) | set(_plain(classes or []))
    try:
        return sorted(seen)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in seen})
        raise InvalidInputError(
            f"labels mix types ({', '.join(kinds)}): the target and the predictions must "
            "hold labels of one kind"
        ) from None


def _plain(values: Any) -> list[Any]:
    """Python scalars (JSON-friendly) from numpy values."""
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def _column(values: Any, what: str) -> Array:
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise InvalidInputError(f"{what} must be one value per row, got shape {array.shape}")
    return array


def classification_scores(
    y_true: Any,
    y_pred: Any,
    proba: Any | None = None,
    classes: Sequence[Any] | None = None,
) -> Scores:
    """Scores of predicted labels; ``proba`` (rows x classes, columns in the order of
    ``classes``) adds ROC AUC and log loss."""
    from sklearn import metrics as skm

    truth = _column(y_true, "y_true")
    predicted = _column(y_pred, "y_pred")
    if len(truth) != len(predicted):
        raise InvalidInputError(f"{len(truth)} labels but {len(predicted)} predictions")
    if len(truth) == 0:
        raise InvalidInputError("nothing to evaluate: no rows")
    labels = _labels(truth, predicted, classes)
    truth_l, predicted_l = _plain(truth.tolist()), _plain(predicted.tolist())
    notes: list[str] = []
    metrics: dict[str, float] = {"accuracy": float(skm.accuracy_score(truth_l, predicted_l))}
    for average in ("macro", "weighted"):
        precision, recall, f1, _ = skm.precision_recall_fscore_support(
            truth_l, predicted_l, labels=labels, average=average, zero_division=0
        )
        metrics[f"precision_{average}"] = float(precision)
        metrics[f"recall_{average}"] = float(recall)
        metrics[f"f1_{average}"] = float(f1)
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        truth_l, predicted_l, labels=labels, average=None, zero_division=0
    )
    details: dict[str, Any] = {
        "labels": labels,
        "per_class": [
            {
                "label": label,
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        ],
    }
    if len(labels) <= MAX_MATRIX_CLASSES:
        matrix = skm.confusion_matrix(truth_l, predicted_l, labels=labels)
        details["confusion_matrix"] = matrix.tolist()
    else:
        notes.append(f"confusion matrix left out: {len(labels)} classes")
    if proba is not None:
        _probability_scores(truth_l, proba, classes, metrics, details, notes)
    if notes:
        details["notes"] = notes
    return Scores(metrics, details)


def _probability_scores(
    truth: list[Any],
    proba: Any,
    classes: Sequence[Any] | None,
    metrics: dict[str, float],
    details: dict[str, Any],
    notes: list[str],
) -> None:
    from sklearn import metrics as skm

    matrix = np.asarray(proba, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != len(truth):
        raise InvalidInputError(
            f"probabilities must be rows x classes for {len(truth)} rows, got shape {matrix.shape}"
        )
    if classes is None or len(classes) != matrix.shape[1]:
        notes.append("roc_auc and log_loss left out: the probability columns' classes are unknown")
        return
    if not np.all(np.isfinite(matrix)):
        notes.append("roc_auc and log_loss left out: the probabilities hold NaN or inf")
        return
    class_list = _plain(classes)
    details["proba_classes"] = class_list
    unknown = sorted({str(v) for v in truth} - {str(c) for c in class_list})
    if unknown:
        notes.append(
            "roc_auc and log_loss left out: the model gives no probability for label(s) "
            + ", ".join(unknown[:10])
        )
        return
    truth_array = np.asarray(truth, dtype=object)
    per_class: dict[str, float] = {}
    for j, label in enumerate(class_list):
        positive = truth_array == label
        if positive.all() or not positive.any():
            continue  # one-vs-rest AUC needs rows on both sides
        per_class[str(label)] = float(skm.roc_auc_score(positive, matrix[:, j]))
    if per_class:
        metrics["roc_auc"] = float(np.mean(list(per_class.values())))
        details["roc_auc_per_class"] = per_class
    else:
        notes.append("roc_auc left out: y_true holds a single class")
    sums = matrix.sum(axis=1, keepdims=True)
    normalized = np.divide(matrix, sums, out=np.zeros_like(matrix), where=sums > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metrics["log_loss"] = float(skm.log_loss(truth, normalized, labels=class_list))


# -- regression ----------------------------------------------------------------------
def _numbers(values: Any, what: str) -> Array:
    array = _column(values, what)
    try:
        return array.astype(np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{what} must be numbers for a regression") from None


def regression_scores(y_true: Any, y_pred: Any) -> Scores:
    """MAE, RMSE, R² and MAPE, and a summary of the residuals (prediction - truth)."""
    from sklearn import metrics as skm

    truth = _numbers(y_true, "y_true")
    predicted = _numbers(y_pred, "y_pred")
    if len(truth) != len(predicted):
        raise InvalidInputError(f"{len(truth)} targets but {len(predicted)} predictions")
    if len(truth) == 0:
        raise InvalidInputError("nothing to evaluate: no rows")
    if not (np.all(np.isfinite(truth)) and np.all(np.isfinite(predicted))):
        raise InvalidInputError("the target and the predictions must be finite numbers")
    notes: list[str] = []
    metrics = {
        "mae": float(skm.mean_absolute_error(truth, predicted)),
        "rmse": math.sqrt(float(skm.mean_squared_error(truth, predicted))),
        "mape": float(skm.mean_absolute_percentage_error(truth, predicted)),
    }
    if len(truth) >= 2 and np.ptp(truth) > 0:
        metrics["r2"] = float(skm.r2_score(truth, predicted))
    else:
        notes.append("r2 left out: the target is constant")
    if np.any(truth == 0):
        notes.append("mape is inflated: the target holds zeros")
    residuals = predicted - truth
    quantiles = np.quantile(residuals, [0.05, 0.5, 0.95])
    details: dict[str, Any] = {
        "residuals": {
            "mean": float(residuals.mean()),
            "std": float(residuals.std()),
            "p05": float(quantiles[0]),
            "median": float(quantiles[1]),
            "p95": float(quantiles[2]),
            "max_abs": float(np.abs(residuals).max()),
        }
    }
    if notes:
        details["notes"] = notes
    return Scores(metrics, details)


# -- slices --------------------------------------------------------------------------
def sliced_scores(
    task: str,
    column: str,
    values: Any,
    y_true: Any,
    y_pred: Any,
    proba: Any | None = None,
    classes: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """Scores per distinct value of ``values`` (one per row), for ``details["slices"]``."""
    keys = _column(values, f"slice column {column!r}")
    truth, predicted = np.asarray(y_true), np.asarray(y_pred)
    matrix = None if proba is None else np.asarray(proba)
    missing = np.array([_is_missing(v) for v in keys.tolist()], dtype=bool)
    distinct = _distinct(keys[~missing])
    groups: list[tuple[Any, Array]] = [(value, (keys == value) & ~missing) for value in distinct]
    if missing.any():
        groups.append((None, missing))
    if len(groups) > MAX_SLICES:
        raise InvalidInputError(
            f"slice column {column!r} holds {len(groups)} distinct values; slice by a column "
            f"with at most {MAX_SLICES}"
        )
    out = []
    for value, mask in groups:
        part = scores(
            task,
            truth[mask],
            predicted[mask],
            None if matrix is None else matrix[mask],
            classes,
        )
        entry: dict[str, Any] = {
            "value": value,
            "row_count": int(mask.sum()),
            "metrics": part.metrics,
        }
        if part.details.get("notes"):
            entry["notes"] = part.details["notes"]
        out.append(entry)
    return {"column": column, "slices": out}


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _distinct(values: Array) -> list[Any]:
    plain = set(_plain(values.tolist()))
    try:
        return sorted(plain)
    except TypeError:
        return sorted(plain, key=str)
