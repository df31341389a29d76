"""The plots are real PNGs, drawn the same way every time, without pyplot."""

from __future__ import annotations

import io
import sys

import numpy as np
from PIL import Image

from shipyard.evaluation import plots
from shipyard.evaluation.evaluate import infer_classes
from shipyard.evaluation.metrics import classification_scores


def _size(png: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        return image.size


def test_classification_plots() -> None:
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 3, 200)
    proba = rng.dirichlet([1, 1, 1], 200)
    proba[np.arange(200), y_true] += 0.5
    proba /= proba.sum(axis=1, keepdims=True)
    y_pred = proba.argmax(axis=1)
    scores = classification_scores(y_true, y_pred, proba, [0, 1, 2])
    drawn = plots.classification_plots(y_true.tolist(), scores.details, proba)
    assert set(drawn) == {"confusion_matrix.png", "roc_curves.png"}
    width, height = _size(drawn["confusion_matrix.png"])
    assert width > 300 and height > 300
    again = plots.classification_plots(y_true.tolist(), scores.details, proba)
    assert again == drawn  # same bytes: stored once
    assert b"Software" not in drawn["roc_curves.png"][:200]
    assert "matplotlib.pyplot" not in sys.modules


def test_regression_plots_sample_large_inputs() -> None:
    rng = np.random.default_rng(2)
    truth = rng.normal(size=20_000)
    predicted = truth + rng.normal(scale=0.1, size=truth.size)
    drawn = plots.regression_plots(truth, predicted)
    assert set(drawn) == {"predicted_vs_actual.png", "residuals.png"}
    for png in drawn.values():
        _size(png)


class _WithClasses:
    classes = np.array(["cat", "dog"])


def test_infer_classes() -> None:
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]])
    y_pred = np.array(["cat", "dog", "cat"])
    assert infer_classes(_WithClasses(), proba, y_pred, y_pred) == ["cat", "dog"]
    assert infer_classes(object(), proba, y_pred, y_pred) == ["cat", "dog"]
    three = np.array([[0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.8, 0.1, 0.1]])
    labels = np.array([5, 9, 2])
    assert infer_classes(object(), three, labels, labels) == [2, 5, 9]
    # The truth holds a label the model never learned: the argmax still names the columns.
    assert infer_classes(object(), three, np.array([5, 9, 7]), labels) == [2, 5, 9]
    # Columns the argmax never picks and labels that do not match in number: unknown.
    assert infer_classes(object(), three[:2], labels[:2], labels[:2]) is None
