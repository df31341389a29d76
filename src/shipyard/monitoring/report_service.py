"""``sy.monitoring.report``: check a model's logged predictions and store the report.

::

    r = sy.monitoring.report("models:/digits@production", window="24h")
    r.status, r.drift.drifted_columns, r.quality.comparisons, r.id
    r.to_html("report.html")

The steps, each documented where it lives:

1. the model URI is resolved now (an alias names one version); its predictions are
   read from the prediction logs under the served name (the registered model's
   name unless ``name=`` says otherwise), that version's rows only, in the window
   (:mod:`shipyard.monitoring.windows`; default: the last 24 hours);
2. the reference dataset version, its target column and the mapping of logged
   input columns to its columns (:mod:`shipyard.monitoring.reference`);
3. drift of the features (:func:`shipyard.monitoring.drift`), and of the
   predictions against the model's own predictions on the reference table (the
   reference's target when the model cannot be loaded here);
4. quality on the rows with feedback labels against the version's promotion
   evaluation (:mod:`shipyard.monitoring.quality`);
5. the JSON and HTML as blobs, and a report row linked to the model version.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from shipyard.entities import now_ms
from shipyard.errors import InvalidInputError, NoPredictionsError
from shipyard.monitoring.reports import MonitorReport
from shipyard.monitoring.thresholds import DEFAULT_DRIFT_SHARE, check_thresholds
from shipyard.monitoring.windows import DEFAULT_WINDOW_SECONDS, Window

if TYPE_CHECKING:
    import pyarrow as pa  # type: ignore[import-untyped]

    from shipyard.models.resolve import ResolvedModel
    from shipyard.tracking.client import Client

__all__ = ["NoPredictionsError", "report", "store_report"]


def _window(
    window: Window | str | int | None,
    last: int | None,
    since: str | int | None,
    until: str | int | None,
    default_seconds: int,
) -> Window:
    if isinstance(window, Window):
        if last is not None or since is not None or until is not None:
            raise InvalidInputError("give a Window, or last / since / until, not both")
        return window
    if isinstance(window, int) and not isinstance(window, bool):
        window = f"{window}s"
    return Window.parse(window, last, since, until, default_seconds=default_seconds)


def _served_name(model: ResolvedModel, name: str | None) -> str:
    if name is not None:
        return name
    if model.name is None:
        raise InvalidInputError(
            f"{model.uri} is not a registered version: give the name its server logs under "
            "(name=, --name)"
        )
    return model.name


def _predictions(logs: pa.Table, outputs: list[str]) -> np.ndarray[Any, Any] | None:
    if not outputs:
        return None
    columns = [np.asarray(logs.column(n).to_numpy(zero_copy_only=False)) for n in outputs]
    return columns[0] if len(columns) == 1 else np.column_stack(columns)


def _width(values: np.ndarray[Any, Any]) -> int:
    if values.ndim == 2 and values.shape[1] == 1:
        return 1
    return 1 if values.ndim == 1 else int(values.shape[1])


def report(
    model_uri: str,
    reference: str | None = None,
    window: Window | str | int | None = None,
    *,
    last: int | None = None,
    since: str | int | None = None,
    until: str | int | None = None,
    target: str | None = None,
    name: str | None = None,
    thresholds: Mapping[str, Any] | None = None,
    trust: bool = False,
    store: bool = True,
    monitor_id: str | None = None,
    client: Client | None = None,
) -> MonitorReport:
    """Compare the model's logged predictions with its reference; store and return the report.

    ``reference``: a dataset version URI (default: the model's training data).
    ``window``: ``"24h"``, seconds, or a :class:`Window`; or ``last`` (rows) and /
    or ``since`` / ``until`` (ms, ISO 8601, or a duration ago). ``target``: the
    reference's target column, left out of the features. ``name``: the name the
    server logs under (default: the registered name). ``thresholds``: see
    :mod:`shipyard.monitoring.thresholds`. ``trust`` lets a pickled model run on
    the reference. ``store=False`` computes without storing.
    Raises :class:`NoPredictionsError` when the window holds no prediction.
    """
    from shipyard.models.resolve import client_or_default, resolve

    c = client_or_default(client)
    limits = check_thresholds(thresholds)
    span = _window(window, last, since, until, DEFAULT_WINDOW_SECONDS)
    model = resolve(model_uri, client=c)
    served = _served_name(model, name)
    started = now_ms()
    result = compute_report(c, model, served, span, reference, target, limits, trust, started)
    return store_report(c, result, monitor_id) if store else result


def compute_report(
    c: Client,
    model: ResolvedModel,
    served: str,
    span: Window,
    reference: str | None,
    target: str | None,
    limits: dict[str, Any],
    trust: bool,
    now: int,
) -> MonitorReport:
    """The report of ``model``'s logs under ``served`` in ``span`` (nothing stored)."""
    from shipyard.monitoring.drift_api import drift
    from shipyard.monitoring.prediction_log import feature_columns, read_prediction_logs
    from shipyard.monitoring.quality import compute_quality, find_baseline
    from shipyard.monitoring.reference import (
        align_columns,
        choose_reference,
        find_target,
        load_reference,
        output_columns,
        reference_predictions,
    )

    since_ms, until_ms = span.bounds(now)
    logs = read_prediction_logs(
        c, served, since_ms=since_ms, until_ms=until_ms, last_n=span.last_n, version=model.version
    )
    if logs.num_rows == 0:
        which = served if model.version is None else f"{served} version {model.version}"
        raise NoPredictionsError(f"no logged predictions of {which} in the {span.describe()}")
    store = c.store
    baseline, promoted = find_baseline(store, model.name, model.version)
    evaluations = []
    if model.name is not None and model.version is not None:
        evaluations = store.list_evaluations(model.name, model.version)
    if promoted is not None:
        evaluations.insert(0, promoted)
    choice = choose_reference(c, model, reference, evaluations)
    table = load_reference(c, choice.version)
    column = find_target([str(n) for n in table.columns], target, evaluations)
    alignment = align_columns(table, logs, column, feature_columns(logs))
    notes: list[str] = []
    if alignment.unlogged:
        shown = ", ".join(alignment.unlogged[:5])
        notes.append(f"reference columns the model does not take, not compared: {shown}")
    outputs = output_columns(logs)
    current = _predictions(logs, outputs)
    expected, why_not = (None, None)
    source: str | None = None
    if current is not None:
        expected, why_not = reference_predictions(c, model, alignment.reference, trust=trust)
        source = "model"
        if expected is None:
            notes.append(str(why_not))
            if column is not None and len(outputs) == 1:
                expected, source = table[column].to_numpy(), "target"
                notes.append(f"predictions are compared with the reference's {column!r} instead")
        if expected is not None and _width(expected) != _width(current):
            notes.append("the reference predictions and the logged ones differ in width")
            expected = None
    if expected is None:
        source = None
    pair = None if expected is None or current is None else (expected, current)
    share = float(limits.get("drift_share", DEFAULT_DRIFT_SHARE))
    drifted = drift(alignment.reference, alignment.current, drift_share=share, prediction=pair)
    quality = compute_quality(logs, outputs, baseline, limits)
    stamps = logs.column("timestamp").to_numpy()
    return MonitorReport(
        model_uri=model.uri,
        model_name=served,
        model_version=model.version,
        run_id=model.run_id,
        reference=choice.uri,
        reference_reason=choice.reason,
        target=column,
        column_mapping=alignment.mapping,
        by_position=alignment.by_position,
        window=span,
        window_start=since_ms if since_ms is not None else int(stamps.min()),
        window_end=until_ms if until_ms is not None else int(stamps.max()),
        rows=logs.num_rows,
        drift=drifted,
        quality=quality,
        prediction_reference=source,
        thresholds=limits,
        notes=notes,
        created_at=now,
    )


def store_report(
    client: Client, result: MonitorReport, monitor_id: str | None = None
) -> MonitorReport:
    """Store the report's JSON and HTML as blobs, then its row; the report with its id."""
    from dataclasses import replace

    if monitor_id is not None:
        result = replace(result, monitor_id=monitor_id)
    report_digest, _ = client.blob_store.put(io.BytesIO(result.to_json()))
    html_digest, _ = client.blob_store.put(io.BytesIO(result.to_html().encode()))
    record = client.store.create_report(
        model_name=result.model_name,
        model_version=result.model_version,
        dataset_drift=result.dataset_drift,
        drift_share=result.drift.drifted_share,
        summary=result.summary(),
        report_digest=report_digest,
        html_digest=html_digest,
        monitor_id=monitor_id,
        reference=result.reference,
        window_start=result.window_start,
        window_end=result.window_end,
        row_count=result.rows,
    )
    return result.with_record(record)
