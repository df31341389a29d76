"""``sy.evaluate``: score a model on a table and keep the scores.

::

    result = sy.evaluate("models:/digits@production", "datasets:/digits-test@latest",
                         target="label")
    result.metrics["f1_macro"], result.plots["confusion_matrix.png"], result.id

The table is a dataset version (read with :func:`shipyard.data.load_table`,
which records it as an input of the active run, if any) or a pandas / polars
DataFrame. The evaluation is stored linked to the model version and the
dataset version, with its plots as PNG blobs.
"""

from __future__ import annotations

import io
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from shipyard.entities import DatasetVersion, Evaluation
from shipyard.errors import InvalidInputError
from shipyard.evaluation import metrics as m
from shipyard.tracking.client import Client
from shipyard.tracking.context import current_user

if TYPE_CHECKING:
    import pandas as pd

    from shipyard.models.predictor import Predictor

__all__ = ["EvaluationResult", "Table", "evaluate", "evaluate_table", "load_data"]

Array = np.ndarray[Any, Any]


def _client(client: Client | None) -> Client:
    if client is not None:
        return client
    from shipyard.tracking.fluent import default_client

    return default_client()


@dataclass(frozen=True, slots=True)
class Table:
    """The rows an evaluation scores, and the dataset version they came from (if any)."""

    frame: pd.DataFrame
    version: DatasetVersion | None = None


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    """A stored evaluation: ``metrics`` (finite scalars), ``details`` (confusion matrix,
    per-class scores, slices, notes) and ``plots`` (file name -> blob digest)."""

    evaluation: Evaluation

    @property
    def id(self) -> str:
        return self.evaluation.id

    @property
    def metrics(self) -> dict[str, float]:
        return self.evaluation.metrics

    @property
    def details(self) -> dict[str, Any]:
        return self.evaluation.details

    @property
    def plots(self) -> dict[str, str]:
        return self.evaluation.plots

    @property
    def task(self) -> str:
        return self.evaluation.task

    @property
    def row_count(self) -> int:
        return self.evaluation.row_count

    @property
    def model_uri(self) -> str:
        """The model's canonical URI (``models:/digits/3``) when it is a registered version."""
        e = self.evaluation
        if e.model_name is not None and e.model_version is not None:
            return f"models:/{e.model_name}/{e.model_version}"
        return e.model_uri

    @property
    def dataset_uri(self) -> str | None:
        e = self.evaluation
        if e.dataset is None or e.dataset_version is None:
            return None
        return f"datasets:/{e.dataset}/{e.dataset_version}"

    def __getitem__(self, metric: str) -> float:
        try:
            return self.metrics[metric]
        except KeyError:
            shown = ", ".join(sorted(self.metrics))
            raise KeyError(f"no metric {metric!r}; this evaluation has {shown}") from None

    def plot_bytes(self, name: str, *, client: Client | None = None) -> bytes:
        """The PNG bytes of one plot (``confusion_matrix.png``), verified."""
        digest = self.plots.get(name)
        if digest is None:
            raise KeyError(f"no plot {name!r}; this evaluation has {', '.join(self.plots)}")
        return b"".join(_client(client).blob_store.open(digest))

    def summary(self) -> str:
        scores = ", ".join(f"{k} {v:.4g}" for k, v in self.metrics.items())
        source = self.dataset_uri or f"{self.row_count} rows"
        return f"{self.model_uri} on {source}: {scores}"


# -- data ------------------------------------------------------------------------------
def load_data(data: Any, *, client: Client | None = None) -> Table:
    """The table to score: a dataset URI or version, a pandas / polars DataFrame, a dict
    of columns."""
    import pandas as pd

    if isinstance(data, str | DatasetVersion):
        from shipyard.data.api import resolve_in
        from shipyard.data.tables import load_table

        c = _client(client)
        version = resolve_in(c.store, data)
        return Table(load_table(version, client=c), version)
    if isinstance(data, pd.DataFrame):
        return Table(data)
    if hasattr(data, "to_pandas"):  # polars DataFrame, pyarrow Table
        frame = data.to_pandas()
        if isinstance(frame, pd.DataFrame):
            return Table(frame)
    if isinstance(data, Mapping):
        return Table(pd.DataFrame(dict(data)))
    raise InvalidInputError(
        "data must be a dataset URI (datasets:/NAME@latest), a pandas or polars DataFrame, "
        f"or a dict of columns, got {type(data).__name__}"
    )


def _check_columns(frame: pd.DataFrame, target: str, slice_by: str | None) -> None:
    for role, column in (("target", target), ("slice", slice_by)):
        if column is not None and column not in frame.columns:
            shown = ", ".join(str(c) for c in list(frame.columns)[:20])
            more = f" (+{len(frame.columns) - 20} more)" if len(frame.columns) > 20 else ""
            raise InvalidInputError(
                f"{role} column {column!r} is not in the table; its columns: {shown}{more}"
            )
    missing = int(frame[target].isna().sum())
    if missing:
        raise InvalidInputError(
            f"target column {target!r} has {missing} missing value(s); drop or fill them first"
        )
    if len(frame) == 0:
        raise InvalidInputError("the table has no rows to evaluate on")


def _features(
    frame: pd.DataFrame, target: str, slice_by: str | None, model: Predictor
) -> pd.DataFrame:
    """What the model takes: its signature's columns, or every other column of the table."""
    signature = model.signature
    if signature.kind == "columns":
        names = signature.input_names
        if all(name in frame.columns for name in names):
            return frame[names]
        return frame.drop(columns=[target])
    features = frame.drop(columns=[target])
    if slice_by is not None and slice_by != target:
        shape = signature.inputs[0].shape if signature.inputs else ()
        width = shape[1] if len(shape) == 2 else -1
        # A tensor model takes every column: the slice column goes, unless it is one of them.
        if width != features.shape[1]:
            features = features.drop(columns=[slice_by])
    return features


# -- predictions -----------------------------------------------------------------------
def _flat(predictions: Array) -> Array:
    if predictions.ndim == 2 and predictions.shape[1] == 1:
        return predictions[:, 0]
    if predictions.ndim != 1:
        raise InvalidInputError(
            f"the model predicts {predictions.shape[1:]} values per row; evaluation needs one"
        )
    return predictions


def _proba_matrix(proba: Array) -> Array:
    matrix = np.asarray(proba, dtype=np.float64)
    if matrix.ndim == 1:  # the positive class's probability alone
        return np.column_stack([1.0 - matrix, matrix])
    return matrix


def infer_classes(model: Any, proba: Array, y_true: Array, y_pred: Array) -> list[Any] | None:
    """The class of each probability column.

    The model's own list when it has one; else scikit-learn's convention (the
    sorted labels), checked against the columns' argmax; else what each column's
    argmax predicts, when that names every column once.
    """
    k = proba.shape[1]
    own = getattr(model, "classes", None)
    if own is None:  # a scikit-learn estimator's own list, behind a loaded model
        own = getattr(getattr(model, "raw", None), "classes_", None)
    if own is not None and len(own) == k:
        return [v.item() if isinstance(v, np.generic) else v for v in own]
    top = proba.argmax(axis=1)
    voted: dict[int, Any] = {}
    for j in range(k):
        picked = y_pred[top == j]
        if len(picked):
            voted[j] = Counter(picked.tolist()).most_common(1)[0][0]
    try:
        seen = sorted(set(y_true.tolist()) | set(y_pred.tolist()))
    except TypeError:
        seen = []
    if len(seen) == k and all(seen[j] == label for j, label in voted.items()):
        return seen
    if len(voted) == k and len(set(voted.values())) == k:
        return [voted[j] for j in range(k)]
    return None


def _infer_task(model: Predictor, y_true: pd.Series[Any], y_pred: Array) -> m.Task:
    import pandas as pd

    if model.has_predict_proba:
        return "classification"
    if y_pred.dtype.kind == "f" and not np.all(np.mod(y_pred[np.isfinite(y_pred)], 1) == 0):
        return "regression"
    if pd.api.types.is_float_dtype(y_true.dtype):
        return "regression"
    return "classification"


# -- evaluate ----------------------------------------------------------------------------
def _load(model: str | Predictor, client: Client, trust: bool) -> Predictor:
    if not isinstance(model, str):
        return model
    from shipyard.models import load

    return load(model, trust=trust, client=client)


def evaluate(
    model_uri: str | Predictor,
    data: Any,
    target: str,
    task: str | None = None,
    *,
    slice_by: str | None = None,
    plots: bool = True,
    trust: bool = False,
    client: Client | None = None,
) -> EvaluationResult:
    """Score a model on a table and store the evaluation.

    ``model_uri``: ``models:/NAME@ALIAS``, ``models:/NAME/3``, ``runs:/<id>/model`` or a
    loaded model. ``data``: ``datasets:/NAME@latest`` (any dataset version URI), or a
    DataFrame. ``task``: ``"classification"`` or ``"regression"``; None infers it (a
    model with class probabilities classifies; float predictions or targets regress).
    ``slice_by`` names a column: the scores of each of its values go in
    ``details["slices"]``. ``trust`` allows models stored as pickle.
    """
    c = _client(client)
    model = _load(model_uri, c, trust)
    return evaluate_table(
        model, load_data(data, client=c), target, task, slice_by=slice_by, plots=plots, client=c
    )


def evaluate_table(
    model: Predictor,
    table: Table,
    target: str,
    task: str | None = None,
    *,
    slice_by: str | None = None,
    plots: bool = True,
    client: Client | None = None,
) -> EvaluationResult:
    """:func:`evaluate` of a loaded model on a loaded table (the gate scores two models on
    one table read once)."""
    c = _client(client)
    chosen = m.check_task(task) if task is not None else None
    frame = table.frame
    _check_columns(frame, target, slice_by)
    prepared = model.prepare(_features(frame, target, slice_by, model))
    y_true = frame[target].to_numpy()
    y_pred = _flat(np.asarray(model.predict_prepared(prepared)))
    if len(y_pred) != len(y_true):
        raise InvalidInputError(f"the model gave {len(y_pred)} predictions for {len(y_true)} rows")
    if chosen is None:
        chosen = _infer_task(model, frame[target], y_pred)
    proba: Array | None = None
    classes: list[Any] | None = None
    if chosen == "classification" and model.has_predict_proba:
        proba = _proba_matrix(model.predict_proba_prepared(prepared))
        if proba.shape[0] == len(y_true):
            classes = infer_classes(model, proba, y_true, y_pred)
    scored = m.scores(chosen, y_true, y_pred, proba, classes)
    details = dict(scored.details)
    if slice_by is not None:
        values = frame[slice_by].to_numpy(dtype=object)
        details["slices"] = m.sliced_scores(
            chosen, slice_by, values, y_true, y_pred, proba, classes
        )
    digests = _store_plots(c, chosen, y_true, y_pred, proba, details) if plots else {}
    version = table.version
    evaluation = c.store.log_evaluation(
        model_uri=model.uri,
        task=chosen,
        target=target,
        metrics=scored.metrics,
        details=_json_safe(details),
        plots=digests,
        row_count=len(y_true),
        model_name=model.model_name,
        model_version=model.model_version,
        dataset=version.dataset if version is not None else None,
        dataset_version=version.version if version is not None else None,
        user=current_user(),
    )
    return EvaluationResult(evaluation)


def _store_plots(
    client: Client,
    task: str,
    y_true: Array,
    y_pred: Array,
    proba: Array | None,
    details: Mapping[str, Any],
) -> dict[str, str]:
    from shipyard.evaluation import plots as p

    if task == "classification":
        drawn = p.classification_plots(y_true.tolist(), dict(details), proba)
    else:
        drawn = p.regression_plots(y_true.astype(np.float64), y_pred.astype(np.float64))
    digests = {}
    for name, png in drawn.items():
        digest, _ = client.blob_store.put(io.BytesIO(png))
        digests[name] = digest
    return digests


def _json_safe(value: Any) -> Any:
    """Details as plain JSON: numpy scalars as Python ones, non-finite floats as None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_json_safe(v) for v in value]
    return value
