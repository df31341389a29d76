"""The monitoring part of RestStore, over ``/api/v1/monitoring``.

Indexing a log file and storing feedback are safe to repeat (the same digest
indexes once; a label sent again replaces itself), so both are retried like
reads. Creates of monitors and reports carry an ``Idempotency-Key``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from shipyard.entities import Page
from shipyard.errors import InvalidInputError, NotFoundError
from shipyard.store.monitoring_base import (
    Feedback,
    MonitoringStore,
    MonitorRecord,
    PredictionLogBatch,
    ReportRecord,
)
from shipyard.store.rest.http import IDEMPOTENCY_HEADER, HttpClient
from shipyard.store.rest.monitoring_codec import (
    batch_from_json,
    feedback_from_json,
    monitor_from_json,
    report_from_json,
)

__all__ = ["RestMonitoringStore"]

_API = "/api/v1/monitoring"


def _seg(value: object, what: str) -> str:
    """An id as one path segment; one that could reach another route names nothing."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} id must be a string, got {type(value).__name__}")
    if not value or "/" in value or value in (".", ".."):
        raise NotFoundError(f"no {what} with id {value!r}")
    return quote(value, safe="")


def _listed(items: object) -> object:
    if isinstance(items, Sequence) and not isinstance(items, str | bytes):
        return list(items)
    return items


def _pairs(items: object) -> object:
    """Feedback pairs as JSON objects; anything malformed as given, for the server to refuse."""
    listed = _listed(items)
    if not isinstance(listed, list):
        return listed
    return [
        {"request_id": item[0], "label": item[1]}
        if isinstance(item, Sequence) and not isinstance(item, str | bytes) and len(item) == 2
        else item
        for item in listed
    ]


def _mapping(value: object) -> object:
    """A mapping as a JSON object; anything else as given, for the server to refuse."""
    return dict(value) if isinstance(value, Mapping) else value


def _flag(value: object) -> object:
    """A bool as the query string spells it; anything else as given."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class RestMonitoringStore(MonitoringStore):
    """Mixin of :class:`shipyard.store.rest.store.RestStore`; not usable on its own."""

    _http: HttpClient

    def _mon_json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._http.request(method, _API + path, **kwargs).json()

    def _mon_call(self, method: str, path: str, **kwargs: Any) -> None:
        self._http.request(method, _API + path, **kwargs)

    # -- prediction logs ---------------------------------------------------------
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
        body = {
            "model_name": model_name,
            "model_version": model_version,
            "min_timestamp": min_timestamp,
            "max_timestamp": max_timestamp,
            "row_count": row_count,
            "digest": digest,
            "size": size,
        }
        data = self._mon_json("POST", "/prediction-logs", json_body=body, idempotent=True)
        return batch_from_json(data)

    def list_prediction_log_batches(
        self,
        model_name: str,
        since_ms: int | None = None,
        until_ms: int | None = None,
        version: int | None = None,
        max_results: int | None = None,
        newest_first: bool = False,
    ) -> list[PredictionLogBatch]:
        params = {
            "model_name": model_name,
            "since_ms": since_ms,
            "until_ms": until_ms,
            "version": version,
            "max_results": max_results,
            "newest_first": _flag(newest_first),
        }
        data = self._mon_json("GET", "/prediction-logs", params=params)
        return [batch_from_json(item) for item in data["batches"]]

    def list_prediction_log_models(self) -> list[str]:
        return list(self._mon_json("GET", "/prediction-logs/models")["models"])

    def delete_prediction_log_batches(self, model_name: str, before_ms: int) -> int:
        params = {"model_name": model_name, "before_ms": before_ms}
        return int(self._mon_json("DELETE", "/prediction-logs", params=params)["deleted"])

    # -- feedback ----------------------------------------------------------------
    def log_feedback(self, model_name: str | None, items: Sequence[tuple[str, Any]]) -> int:
        body = {"model_name": model_name, "items": _pairs(items)}
        data = self._mon_json("POST", "/feedback", json_body=body, idempotent=True)
        return int(data["recorded"])

    def get_feedback(self, model_name: str, request_ids: Sequence[str]) -> list[Feedback]:
        body = {"model_name": model_name, "request_ids": _listed(request_ids)}
        data = self._mon_json("POST", "/feedback/lookup", json_body=body, idempotent=True)
        return [feedback_from_json(item) for item in data["feedback"]]

    def list_feedback(
        self,
        model_name: str | None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        max_results: int = 10_000,
    ) -> list[Feedback]:
        params = {
            "model_name": model_name,
            "since_ms": since_ms,
            "until_ms": until_ms,
            "max_results": max_results,
        }
        data = self._mon_json("GET", "/feedback", params=params)
        return [feedback_from_json(item) for item in data["feedback"]]

    # -- monitors ----------------------------------------------------------------
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
        body = {
            "model_uri": model_uri,
            "every_seconds": every_seconds,
            "webhook": webhook,
            "thresholds": _mapping(thresholds),
            "config": _mapping(config),
            "enabled": enabled,
            "next_run_at": next_run_at,
        }
        data = self._mon_json(
            "POST", "/monitors", json_body=body, headers={IDEMPOTENCY_HEADER: uuid.uuid4().hex}
        )
        return monitor_from_json(data)

    def get_monitor(self, monitor_id: str) -> MonitorRecord:
        return monitor_from_json(self._mon_json("GET", f"/monitors/{_seg(monitor_id, 'monitor')}"))

    def list_monitors(
        self, model_uri: str | None = None, enabled: bool | None = None
    ) -> list[MonitorRecord]:
        params = {"model_uri": model_uri, "enabled": _flag(enabled)}
        data = self._mon_json("GET", "/monitors", params=params)
        return [monitor_from_json(item) for item in data["monitors"]]

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
        body = {
            "every_seconds": every_seconds,
            "webhook": webhook,
            "thresholds": _mapping(thresholds),
            "config": _mapping(config),
            "enabled": enabled,
            "state": state,
        }
        path = f"/monitors/{_seg(monitor_id, 'monitor')}"
        return monitor_from_json(self._mon_json("PATCH", path, json_body=body))

    def delete_monitor(self, monitor_id: str) -> None:
        self._mon_call("DELETE", f"/monitors/{_seg(monitor_id, 'monitor')}")

    def due_monitors(self, now_ms: int) -> list[MonitorRecord]:
        data = self._mon_json("GET", "/monitors/due", params={"now_ms": now_ms})
        return [monitor_from_json(item) for item in data["monitors"]]

    def claim_monitor_run(self, monitor_id: str, due_at: int, next_run_at: int) -> bool:
        path = f"/monitors/{_seg(monitor_id, 'monitor')}/claim"
        body = {"due_at": due_at, "next_run_at": next_run_at}
        # Not retried: a claim that succeeded but whose answer was lost would read as lost.
        return bool(self._mon_json("POST", path, json_body=body, idempotent=False)["claimed"])

    # -- reports -----------------------------------------------------------------
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
        body = {
            "model_name": model_name,
            "model_version": model_version,
            "dataset_drift": dataset_drift,
            "drift_share": drift_share,
            "summary": _mapping(summary),
            "report_digest": report_digest,
            "html_digest": html_digest,
            "monitor_id": monitor_id,
            "reference": reference,
            "window_start": window_start,
            "window_end": window_end,
            "row_count": row_count,
        }
        data = self._mon_json(
            "POST", "/reports", json_body=body, headers={IDEMPOTENCY_HEADER: uuid.uuid4().hex}
        )
        return report_from_json(data)

    def get_report(self, report_id: str) -> ReportRecord:
        return report_from_json(self._mon_json("GET", f"/reports/{_seg(report_id, 'report')}"))

    def list_reports(
        self,
        model_name: str | None = None,
        monitor_id: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[ReportRecord]:
        params = {
            "model_name": model_name,
            "monitor_id": monitor_id,
            "max_results": max_results,
            "page_token": page_token,
        }
        data = self._mon_json("GET", "/reports", params=params)
        return Page(
            [report_from_json(item) for item in data["reports"]], data.get("next_page_token")
        )

    def delete_report(self, report_id: str) -> None:
        self._mon_call("DELETE", f"/reports/{_seg(report_id, 'report')}")

    # -- garbage collection --------------------------------------------------------
    def monitoring_referenced_digests(self) -> set[str]:
        return set(self._mon_json("GET", "/references/digests")["digests"])
