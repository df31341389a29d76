"""Model quality on live traffic, once feedback labels arrive, against the score at promotion.

The **baseline** is the evaluation the model version was promoted on: the
newest promotion decision that promoted this version names its candidate
evaluation; without one, the version's newest evaluation. Its task
(classification or regression) is the task here too.

The **current** scores are computed on the window's rows that have a label
(:func:`shipyard.evaluation.metrics.scores`: accuracy, F1, ROC AUC with class
probabilities; MAE, RMSE, R², MAPE).

A metric has **dropped** when it is worse than the baseline by more than its
threshold: ``<metric>_drop`` (``accuracy_drop=0.05`` means five points of
accuracy), by default 0.05 for accuracy, F1 (macro) and ROC AUC, and 10% of the
baseline for MAE and RMSE (an error's scale is the target's). Below
``min_labels`` labelled rows (default 30) scores are shown but never count as a
drop: a handful of labels says little.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from shipyard.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    import pyarrow as pa  # type: ignore[import-untyped]

    from shipyard.entities import Evaluation
    from shipyard.store.base import Store

__all__ = [
    "DEFAULT_DROPS",
    "DEFAULT_MIN_LABELS",
    "Baseline",
    "MetricComparison",
    "QualityReport",
    "compute_quality",
    "find_baseline",
]

DEFAULT_MIN_LABELS = 30
DEFAULT_DROPS = {"accuracy": 0.05, "f1_macro": 0.05, "roc_auc": 0.05}
DEFAULT_RELATIVE_DROPS = {"mae": 0.10, "rmse": 0.10}
_COMPARED = {
    "classification": ("accuracy", "f1_macro", "roc_auc"),
    "regression": ("mae", "rmse"),
}


@dataclass(frozen=True, slots=True)
class Baseline:
    """The evaluation live scores are compared with, and why it is the one."""

    evaluation_id: str
    source: str  # "promotion" or "evaluation"
    task: str
    metrics: dict[str, float]
    dataset: str | None = None
    decision_id: str | None = None
    classes: list[Any] | None = None  # the class of each probability column

    def to_dict(self) -> dict[str, Any]:
        return {
            "evaluation_id": self.evaluation_id,
            "source": self.source,
            "task": self.task,
            "metrics": dict(self.metrics),
            "dataset": self.dataset,
            "decision_id": self.decision_id,
            "classes": self.classes,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Baseline:
        return cls(
            evaluation_id=str(data["evaluation_id"]),
            source=str(data["source"]),
            task=str(data["task"]),
            metrics={str(k): float(v) for k, v in (data.get("metrics") or {}).items()},
            dataset=data.get("dataset"),
            decision_id=data.get("decision_id"),
            classes=data.get("classes"),
        )


def _baseline(evaluation: Evaluation, source: str, decision_id: str | None = None) -> Baseline:
    classes = evaluation.details.get("proba_classes")
    return Baseline(
        evaluation.id,
        source,
        evaluation.task,
        dict(evaluation.metrics),
        _dataset_uri(evaluation),
        decision_id,
        list(classes) if isinstance(classes, list) else None,
    )


def _dataset_uri(evaluation: Evaluation) -> str | None:
    if evaluation.dataset is None or evaluation.dataset_version is None:
        return None
    return f"datasets:/{evaluation.dataset}/{evaluation.dataset_version}"


def find_baseline(
    store: Store, name: str | None, version: int | None
) -> tuple[Baseline | None, Evaluation | None]:
    """The baseline of a registered version (see the module docstring), and its evaluation."""
    if name is None or version is None:
        return None, None
    for decision in store.list_promotion_decisions(name):
        if decision.promoted and decision.candidate_version == version:
            try:
                evaluation = store.get_evaluation(decision.candidate_evaluation_id)
            except NotFoundError:
                continue
            return _baseline(evaluation, "promotion", decision.id), evaluation
    evaluations = store.list_evaluations(name, version)
    if not evaluations:
        return None, None
    return _baseline(evaluations[0], "evaluation"), evaluations[0]


@dataclass(frozen=True, slots=True)
class MetricComparison:
    """One metric now and at the baseline; ``worse_by`` > 0 means it got worse."""

    metric: str
    current: float
    baseline: float
    worse_by: float
    threshold: float
    dropped: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "current": self.current,
            "baseline": self.baseline,
            "worse_by": self.worse_by,
            "threshold": self.threshold,
            "dropped": self.dropped,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MetricComparison:
        return cls(
            metric=str(data["metric"]),
            current=float(data["current"]),
            baseline=float(data["baseline"]),
            worse_by=float(data["worse_by"]),
            threshold=float(data["threshold"]),
            dropped=bool(data["dropped"]),
        )


@dataclass(frozen=True)
class QualityReport:
    """Scores on the labelled rows of the window, compared with the baseline."""

    labelled_rows: int
    task: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    baseline: Baseline | None = None
    comparisons: list[MetricComparison] = field(default_factory=list)
    min_labels: int = DEFAULT_MIN_LABELS
    note: str | None = None

    @property
    def quality_drop(self) -> bool:
        return any(c.dropped for c in self.comparisons)

    @property
    def dropped_metrics(self) -> list[str]:
        return [c.metric for c in self.comparisons if c.dropped]

    def to_dict(self) -> dict[str, Any]:
        return {
            "labelled_rows": self.labelled_rows,
            "task": self.task,
            "metrics": dict(self.metrics),
            "baseline": None if self.baseline is None else self.baseline.to_dict(),
            "comparisons": [c.to_dict() for c in self.comparisons],
            "min_labels": self.min_labels,
            "quality_drop": self.quality_drop,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QualityReport:
        baseline = data.get("baseline")
        return cls(
            labelled_rows=int(data.get("labelled_rows", 0)),
            task=data.get("task"),
            metrics={str(k): float(v) for k, v in (data.get("metrics") or {}).items()},
            baseline=None if baseline is None else Baseline.from_dict(baseline),
            comparisons=[MetricComparison.from_dict(c) for c in data.get("comparisons") or []],
            min_labels=int(data.get("min_labels", DEFAULT_MIN_LABELS)),
            note=data.get("note"),
        )


def _labels(column: pa.ChunkedArray) -> np.ndarray[Any, Any]:
    """Labels as numbers when they all are, else as strings (JSON text of mixed labels)."""
    import pyarrow as pa

    values = column.to_pylist()
    if pa.types.is_string(column.type):
        parsed = []
        for value in values:
            try:
                parsed.append(json.loads(value))
            except ValueError:
                parsed.append(value)
        values = parsed
    if all(isinstance(v, bool | int | float) for v in values):
        return np.asarray(values)
    return np.asarray([str(v) for v in values], dtype=object)


def _infer_task(y_true: np.ndarray[Any, Any], y_pred: np.ndarray[Any, Any], proba: bool) -> str:
    if proba or y_true.dtype == object or y_pred.dtype.kind not in "fiub":
        return "classification"
    for values in (y_pred, y_true):
        if values.dtype.kind == "f" and not np.all(np.mod(values[np.isfinite(values)], 1) == 0):
            return "regression"
    return "classification"


def _compare(
    metrics: Mapping[str, float],
    baseline: Baseline,
    thresholds: Mapping[str, Any],
    enough: bool,
) -> list[MetricComparison]:
    from shipyard.evaluation.metrics import greater_is_better

    asked = [k[: -len("_drop")] for k in thresholds if k.endswith("_drop")]
    names = list(dict.fromkeys([*_COMPARED.get(baseline.task, ()), *asked]))
    found = []
    for metric in names:
        if metric not in metrics or metric not in baseline.metrics:
            continue
        now, then = float(metrics[metric]), float(baseline.metrics[metric])
        worse_by = then - now if greater_is_better(metric) else now - then
        limit = thresholds.get(f"{metric}_drop")
        if limit is None:
            relative = DEFAULT_RELATIVE_DROPS.get(metric)
            limit = abs(then) * relative if relative is not None else DEFAULT_DROPS.get(metric)
        if limit is None:
            continue
        found.append(
            MetricComparison(metric, now, then, worse_by, float(limit), enough and worse_by > limit)
        )
    return found


def compute_quality(
    logs: pa.Table,
    outputs: list[str],
    baseline: Baseline | None,
    thresholds: Mapping[str, Any] | None = None,
) -> QualityReport:
    """Scores of the window's labelled rows (``label`` not null), compared with ``baseline``."""
    import pyarrow.compute as pc  # type: ignore[import-untyped]

    from shipyard.evaluation import metrics as m

    limits = dict(thresholds or {})
    min_labels = int(limits.get("min_labels", DEFAULT_MIN_LABELS))
    if "label" not in logs.column_names:
        return QualityReport(0, baseline=baseline, min_labels=min_labels, note="no labels yet")
    labelled = logs.filter(pc.is_valid(logs.column("label")))
    count = labelled.num_rows
    if count == 0:
        return QualityReport(0, baseline=baseline, min_labels=min_labels, note="no labels yet")
    if len(outputs) != 1:
        wide = f"quality needs one prediction per row; the model gives {len(outputs)}"
        return QualityReport(count, baseline=baseline, min_labels=min_labels, note=wide)
    y_true = _labels(labelled.column("label"))
    y_pred = np.asarray(labelled.column(outputs[0]).to_numpy(zero_copy_only=False))
    proba_names = sorted(
        (n for n in labelled.column_names if n.startswith("probability_")),
        key=lambda n: int(n.rsplit("_", 1)[1]),
    )
    task = baseline.task if baseline is not None else _infer_task(y_true, y_pred, bool(proba_names))
    proba = None
    classes = None
    if task == "classification" and proba_names:
        proba = np.column_stack(
            [labelled.column(n).to_numpy(zero_copy_only=False) for n in proba_names]
        ).astype(np.float64)
        classes = _proba_classes(baseline, len(proba_names), y_true)
    try:
        scored = m.scores(task, y_true, y_pred, proba, classes)
    except InvalidInputError as exc:
        failed = f"scores could not be computed: {exc.message}"
        return QualityReport(count, task, baseline=baseline, min_labels=min_labels, note=failed)
    note = None
    comparisons: list[MetricComparison] = []
    if baseline is None:
        note = "no evaluation of this model version to compare with"
    else:
        comparisons = _compare(scored.metrics, baseline, limits, count >= min_labels)
        if count < min_labels:
            note = f"{count} labelled rows: a drop counts from {min_labels}"
    return QualityReport(count, task, dict(scored.metrics), baseline, comparisons, min_labels, note)


def _proba_classes(
    baseline: Baseline | None, width: int, y_true: np.ndarray[Any, Any]
) -> list[Any] | None:
    """The class of each probability column: the baseline evaluation's; else, as
    scikit-learn orders them, the sorted labels when there are as many, or 0 .. k-1 for
    integer labels within that range; else unknown (ROC AUC is left out)."""
    if baseline is not None and baseline.classes is not None and len(baseline.classes) == width:
        return baseline.classes
    try:
        seen = sorted(set(y_true.tolist()))
    except TypeError:
        return None
    if len(seen) == width:
        return seen
    if all(isinstance(v, int) and 0 <= v < width for v in seen):
        return list(range(width))
    return None
