"""The metadata interface of model monitoring: prediction logs, feedback, monitors, reports.

``Store`` inherits it, so every store (SQL, REST) holds monitoring records next to
runs, datasets and models. The bytes live in the blob store:

- a *prediction log batch* is one Parquet file of logged predictions
  (:mod:`shipyard.monitoring.prediction_log` writes and reads them); its row here
  is the index: model, version, time range, row count and the file's digest;
- *feedback* is the true label of a prediction, found later, keyed by the
  request id the server answered with; a label is any JSON value;
- a *monitor* says which model to check how often, and with which thresholds;
- a *report* is one check's outcome: a small summary here, the full JSON report
  and its HTML rendering as blobs.

Writers store a blob first and its index row after, so a row never names
missing bytes (the REST server refuses a row whose blob it does not hold).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shipyard.entities import Page

__all__ = [
    "Feedback",
    "MonitorRecord",
    "MonitoringStore",
    "PredictionLogBatch",
    "ReportRecord",
]

# Same default page size as shipyard.store.base.DEFAULT_PAGE_SIZE; base imports this
# module, so it cannot import base.
_DEFAULT_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class PredictionLogBatch:
    """One Parquet file of logged predictions of one model version (``None``: unversioned)."""

    id: str
    model_name: str
    model_version: int | None
    min_timestamp: int
    max_timestamp: int
    row_count: int
    digest: str
    size: int
    created_at: int


@dataclass(frozen=True, slots=True)
class Feedback:
    """The true label of one prediction request.

    ``model_name`` is ``None`` when the sender did not say which model made the
    prediction: such a label applies to a request id of any model.
    """

    model_name: str | None
    request_id: str
    label: Any
    created_at: int


@dataclass(frozen=True, slots=True)
class MonitorRecord:
    """A scheduled check of a model.

    ``thresholds`` holds the limits that raise an alert (``{"drift_share": 0.3}``);
    ``config`` anything else the check needs (reference dataset, window, columns).
    ``state`` is the outcome of the last check (``pending`` before the first).
    """

    id: str
    model_uri: str
    every_seconds: int
    webhook: str | None
    thresholds: dict[str, Any]
    config: dict[str, Any]
    state: str
    enabled: bool
    last_run_at: int | None
    next_run_at: int
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class ReportRecord:
    """One monitoring report: its summary, and the digests of its JSON and HTML blobs."""

    id: str
    monitor_id: str | None
    model_name: str
    model_version: int | None
    created_at: int
    dataset_drift: bool
    drift_share: float | None
    summary: dict[str, Any]
    report_digest: str
    html_digest: str | None
    reference: str | None = None
    window_start: int | None = None
    window_end: int | None = None
    row_count: int | None = None


class MonitoringStore(abc.ABC):
    """Prediction log index, feedback labels, monitors and reports."""

    # -- prediction logs ---------------------------------------------------------
    @abc.abstractmethod
    def add_prediction_log_batch(
        self,
        model_name: str,
        model_version: int | None,
        min_timestamp: int,
        max_timestamp: int,
        row_count: int,
        digest: str,
        size: int,
    ) -> PredictionLogBatch:
        """Index a stored Parquet file of predictions.

        The same file (``digest``) indexed again for the same model returns the
        row it made the first time, so a retried request stores one row.
        """

    @abc.abstractmethod
    def list_prediction_log_batches(
        self,
        model_name: str,
        since_ms: int | None = None,
        until_ms: int | None = None,
        version: int | None = None,
        max_results: int | None = None,
        newest_first: bool = False,
    ) -> list[PredictionLogBatch]:
        """Batches of the model whose time range meets ``[since_ms, until_ms]``.

        Ordered by ``max_timestamp`` (then id), oldest first or newest first; a
        batch may also hold rows outside the range, which readers filter.
        """

    @abc.abstractmethod
    def list_prediction_log_models(self) -> list[str]:
        """Names of the models with logged predictions, sorted."""

    @abc.abstractmethod
    def delete_prediction_log_batches(self, model_name: str, before_ms: int) -> int:
        """Forget the batches whose newest row is older than ``before_ms``; how many.

        Their files become collectable by ``shipyard gc``.
        """

    # -- feedback ----------------------------------------------------------------
    @abc.abstractmethod
    def log_feedback(self, model_name: str | None, items: Sequence[tuple[str, Any]]) -> int:
        """Store (request id, label) pairs; a label sent again for a request replaces it.

        Returns the number of pairs stored. A label is any JSON value (no NaN).
        """

    @abc.abstractmethod
    def get_feedback(self, model_name: str, request_ids: Sequence[str]) -> list[Feedback]:
        """Labels of these requests of the model: its own, else ones sent without a model.

        At most one per request id, in no particular order; ids without a label are absent.
        """

    @abc.abstractmethod
    def list_feedback(
        self,
        model_name: str | None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        max_results: int = 10_000,
    ) -> list[Feedback]:
        """Labels received in ``[since_ms, until_ms]``, oldest first.

        ``model_name`` ``None`` lists the labels sent without a model.
        """

    # -- monitors ----------------------------------------------------------------
    @abc.abstractmethod
    def create_monitor(
        self,
        model_uri: str,
        every_seconds: int,
        webhook: str | None = None,
        thresholds: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        enabled: bool = True,
        next_run_at: int | None = None,
    ) -> MonitorRecord:
        """A new monitor; its first run is due at ``next_run_at`` (default: now)."""

    @abc.abstractmethod
    def get_monitor(self, monitor_id: str) -> MonitorRecord: ...

    @abc.abstractmethod
    def list_monitors(
        self, model_uri: str | None = None, enabled: bool | None = None
    ) -> list[MonitorRecord]:
        """Monitors ordered by creation time (then id)."""

    @abc.abstractmethod
    def update_monitor(
        self,
        monitor_id: str,
        every_seconds: int | None = None,
        webhook: str | None = None,
        thresholds: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        enabled: bool | None = None,
        state: str | None = None,
    ) -> MonitorRecord:
        """Change the given fields; ``None`` keeps a field, ``webhook=""`` removes the webhook."""

    @abc.abstractmethod
    def delete_monitor(self, monitor_id: str) -> None:
        """Delete the monitor; its reports stay, without a monitor."""

    @abc.abstractmethod
    def due_monitors(self, now_ms: int) -> list[MonitorRecord]:
        """Enabled monitors whose next run is due at ``now_ms``, most overdue first."""

    @abc.abstractmethod
    def claim_monitor_run(self, monitor_id: str, due_at: int, next_run_at: int) -> bool:
        """Take the run due at ``due_at``: if the monitor's ``next_run_at`` still equals
        ``due_at``, set it to ``next_run_at`` and ``last_run_at`` to now and return True.

        Of several schedulers racing for one run, exactly one gets True.
        """

    # -- reports -----------------------------------------------------------------
    @abc.abstractmethod
    def create_report(
        self,
        model_name: str,
        model_version: int | None,
        dataset_drift: bool,
        drift_share: float | None,
        summary: Mapping[str, Any],
        report_digest: str,
        html_digest: str | None = None,
        monitor_id: str | None = None,
        reference: str | None = None,
        window_start: int | None = None,
        window_end: int | None = None,
        row_count: int | None = None,
    ) -> ReportRecord:
        """Record a report whose JSON (and HTML) blobs are stored."""

    @abc.abstractmethod
    def get_report(self, report_id: str) -> ReportRecord: ...

    @abc.abstractmethod
    def list_reports(
        self,
        model_name: str | None = None,
        monitor_id: str | None = None,
        max_results: int = _DEFAULT_PAGE_SIZE,
        page_token: str | None = None,
    ) -> Page[ReportRecord]:
        """Reports, newest first."""

    @abc.abstractmethod
    def delete_report(self, report_id: str) -> None: ...

    # -- garbage collection --------------------------------------------------------
    @abc.abstractmethod
    def monitoring_referenced_digests(self) -> set[str]:
        """Digests of every indexed prediction log file and every report's JSON and HTML."""
