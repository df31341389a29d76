"""One trial of the sweep: cross-validate, fit, evaluate and record everything on a run,
the model as a package (``runs:/<id>/model``) that can be registered."""

from __future__ import annotations

import json
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_score

from shipyard import ActiveRun
from shipyard.demo.data import Digits
from shipyard.demo.models import Family, Settings

MODEL_DIR = "model"
MODEL_PATH = f"{MODEL_DIR}/model.skops"  # the package's scikit-learn file (skops, no pickle)
CONFUSION_PATH = "confusion_matrix.csv"


@dataclass(frozen=True, slots=True)
class TrialResult:
    kind: str
    name: str
    test_accuracy: float
    test_f1_macro: float
    fit_time_s: float


def trial_name(family: Family, settings: Settings) -> str:
    """A readable run name: the kind and its settings, e.g. ``svm C=10 gamma=scale``."""
    parts = [f"{key}={_format(value)}" for key, value in settings.items()]
    return " ".join([family.kind, *parts])


def _format(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "x".join(str(item) for item in value)
    return str(value)


def run_trial(
    run: ActiveRun,
    family: Family,
    settings: Settings,
    data: Digits,
    cv_folds: int,
    workdir: Path,
) -> TrialResult:
    """Train one setting of one family and log params, metrics and artifacts on ``run``."""
    run.set_tag("model.kind", family.kind)
    run.log_params(
        {
            "model": family.kind,
            **{f"model.{key}": _format(value) for key, value in settings.items()},
            **data.describe(),
            "cv_folds": str(cv_folds),
        }
    )

    cv = StratifiedKFold(n_splits=cv_folds, shuffle=True, random_state=data.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(
            family.build(settings, data.seed), data.x_train, data.y_train, cv=cv
        )
    for fold, score in enumerate(scores, start=1):
        run.log_metric("cv_accuracy", float(score), step=fold)
    run.log_metrics(
        {"cv_accuracy_mean": float(np.mean(scores)), "cv_accuracy_std": float(np.std(scores))}
    )

    def log_point(key: str, value: float, step: int) -> None:
        run.log_metric(key, value, step=step)

    started = time.perf_counter()
    model = family.fit(settings, data, log_point)
    fit_time = time.perf_counter() - started

    started = time.perf_counter()
    predicted = np.asarray(model.predict(data.x_test))
    predict_time = time.perf_counter() - started
    accuracy = float(accuracy_score(data.y_test, predicted))
    f1 = float(f1_score(data.y_test, predicted, average="macro"))
    run.log_metrics(
        {
            "test_accuracy": accuracy,
            "test_f1_macro": f1,
            "fit_time_s": fit_time,
            "predict_time_ms": predict_time * 1000.0,
        }
    )

    # A model package (skops file, signature, environment, input example): it can be
    # registered, evaluated and promoted later.
    run.log_model(model, name=MODEL_DIR, input_example=data.x_train[:5])
    folder = Path(tempfile.mkdtemp(prefix=f"{family.kind}-", dir=workdir))
    _write_artifacts(folder, data, predicted)
    run.log_artifact(folder / "confusion_matrix.csv", name=CONFUSION_PATH)
    run.log_artifact(folder / "classification_report.json", name="classification_report.json")
    return TrialResult(family.kind, trial_name(family, settings), accuracy, f1, fit_time)


def _write_artifacts(folder: Path, data: Digits, predicted: np.ndarray[Any, Any]) -> None:
    labels = data.classes
    matrix = confusion_matrix(data.y_test, predicted, labels=labels)
    lines = ["true\\predicted," + ",".join(str(label) for label in labels)]
    lines += [
        f"{label}," + ",".join(str(int(count)) for count in row)
        for label, row in zip(labels, matrix, strict=True)
    ]
    (folder / "confusion_matrix.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = classification_report(data.y_test, predicted, output_dict=True, zero_division=0)
    (folder / "classification_report.json").write_text(
        json.dumps(report, indent=2, sort_keys=True), encoding="utf-8"
    )
