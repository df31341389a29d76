"""The pictures of an evaluation, as PNG bytes.

matplotlib is imported on first use, and only its object API is used (a
``Figure`` on an Agg canvas, never ``pyplot``): no global state, no display
needed, safe in a server thread. PNGs carry no software version or time, so
the same evaluation draws the same bytes, stored once by the blob store.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "classification_plots",
    "confusion_matrix_png",
    "predicted_vs_actual_png",
    "regression_plots",
    "residuals_png",
    "roc_curves_png",
]

MAX_PLOTTED_CLASSES = 30
MAX_POINTS = 5000
_DPI = 100


def _figure(width: float, height: float, *, fit: bool = False) -> Figure:
    """A figure on its own canvas. ``fit`` lays it out around its labels (constrained
    layout), which doubles the drawing time: only for labels of unknown length."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=_DPI, layout="constrained" if fit else None)
    FigureCanvasAgg(figure)
    if not fit:
        figure.subplots_adjust(left=0.12, right=0.96, bottom=0.11, top=0.92, wspace=0.3)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def confusion_matrix_png(matrix: Sequence[Sequence[int]], labels: Sequence[Any]) -> bytes:
    """Counts of true (rows) against predicted (columns) labels, darker for more."""
    counts = np.asarray(matrix, dtype=np.int64)
    n = len(labels)
    names = [str(label) for label in labels]
    size = min(4.0 + 0.4 * n, 16.0)
    figure = _figure(size + 1.0, size, fit=max(map(len, names), default=0) > 3)
    axes = figure.add_subplot()
    image = axes.imshow(counts, cmap="Blues", interpolation="nearest")
    figure.colorbar(image, ax=axes, shrink=0.8)
    ticks = np.arange(n)
    axes.set_xticks(ticks, names, rotation=90 if n > 12 else 0)
    axes.set_yticks(ticks, names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title("Confusion matrix")
    if n <= 20:
        threshold = counts.max() / 2 if counts.size else 0
        for i in range(n):
            for j in range(n):
                color = "white" if counts[i, j] > threshold else "black"
                axes.text(j, i, str(counts[i, j]), ha="center", va="center", color=color)
    return _png(figure)


def roc_curves_png(y_true: Sequence[Any], proba: Any, classes: Sequence[Any]) -> bytes:
    """One one-vs-rest ROC curve per class present in ``y_true`` (the positive class's
    alone for two classes), with its AUC in the legend."""
    from sklearn.metrics import auc, roc_curve

    truth = np.asarray(y_true, dtype=object)
    matrix = np.asarray(proba, dtype=np.float64)
    figure = _figure(6.5, 5.5)
    axes = figure.add_subplot()
    shown = list(enumerate(classes))
    if len(classes) == 2:
        shown = shown[1:]
    drawn = 0
    for j, label in shown[:MAX_PLOTTED_CLASSES]:
        positive = truth == label
        if positive.all() or not positive.any():
            continue
        fpr, tpr, _ = roc_curve(positive, matrix[:, j])
        axes.plot(fpr, tpr, linewidth=1.2, label=f"{label} (AUC {auc(fpr, tpr):.3f})")
        drawn += 1
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.01)
    axes.set_xlabel("false positive rate")
    axes.set_ylabel("true positive rate")
    axes.set_title("ROC curves (one vs rest)")
    if drawn:
        axes.legend(loc="lower right", fontsize="small", ncol=2 if drawn > 10 else 1)
    return _png(figure)


def _sample(*arrays: Any) -> list[np.ndarray[Any, Any]]:
    """At most MAX_POINTS rows, the same ones each time: a scatter of more shows nothing new."""
    columns = [np.asarray(a, dtype=np.float64) for a in arrays]
    n = len(columns[0])
    if n <= MAX_POINTS:
        return columns
    keep = np.sort(np.random.default_rng(0).choice(n, MAX_POINTS, replace=False))
    return [c[keep] for c in columns]


def predicted_vs_actual_png(y_true: Any, y_pred: Any) -> bytes:
    truth, predicted = _sample(y_true, y_pred)
    figure = _figure(5.5, 5.5)
    axes = figure.add_subplot()
    axes.scatter(truth, predicted, s=8, alpha=0.5, linewidths=0)
    low = float(min(truth.min(), predicted.min()))
    high = float(max(truth.max(), predicted.max()))
    axes.plot([low, high], [low, high], linestyle="--", color="grey", linewidth=0.8)
    axes.set_xlabel("actual")
    axes.set_ylabel("predicted")
    axes.set_title("Predicted vs actual")
    return _png(figure)


def residuals_png(y_true: Any, y_pred: Any) -> bytes:
    """Residuals (predicted - actual) against the prediction, and their histogram."""
    truth, predicted = _sample(y_true, y_pred)
    residuals = predicted - truth
    figure = _figure(10.0, 4.5)
    scatter, histogram = figure.subplots(1, 2)
    scatter.scatter(predicted, residuals, s=8, alpha=0.5, linewidths=0)
    scatter.axhline(0.0, linestyle="--", color="grey", linewidth=0.8)
    scatter.set_xlabel("predicted")
    scatter.set_ylabel("residual (predicted - actual)")
    scatter.set_title("Residuals")
    histogram.hist(residuals, bins=min(50, max(10, len(residuals) // 20)))
    histogram.set_xlabel("residual")
    histogram.set_ylabel("rows")
    histogram.set_title("Residual distribution")
    return _png(figure)


def classification_plots(
    y_true: Sequence[Any],
    details: dict[str, Any],
    proba: Any | None,
) -> dict[str, bytes]:
    """The plots a classification's scores allow: file name -> PNG bytes."""
    plots: dict[str, bytes] = {}
    matrix = details.get("confusion_matrix")
    labels = details.get("labels")
    if matrix is not None and labels is not None:
        plots["confusion_matrix.png"] = confusion_matrix_png(matrix, labels)
    classes = details.get("proba_classes")
    if proba is not None and classes is not None and "roc_auc_per_class" in details:
        plots["roc_curves.png"] = roc_curves_png(y_true, proba, classes)
    return plots


def regression_plots(y_true: Any, y_pred: Any) -> dict[str, bytes]:
    return {
        "predicted_vs_actual.png": predicted_vs_actual_png(y_true, y_pred),
        "residuals.png": residuals_png(y_true, y_pred),
    }
