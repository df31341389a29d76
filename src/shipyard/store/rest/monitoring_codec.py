"""JSON forms of the monitoring records, shared by RestStore and the server routes."""

from __future__ import annotations

from typing import Any

from shipyard.store.monitoring_base import (
    Feedback,
    MonitorRecord,
    PredictionLogBatch,
    ReportRecord,
)

__all__ = [
    "batch_from_json",
    "batch_to_json",
    "feedback_from_json",
    "feedback_to_json",
    "monitor_from_json",
    "monitor_to_json",
    "report_from_json",
    "report_to_json",
]


def batch_to_json(batch: PredictionLogBatch) -> dict[str, Any]:
    return {
        "id": batch.id,
        "model_name": batch.model_name,
        "model_version": batch.model_version,
        "min_timestamp": batch.min_timestamp,
        "max_timestamp": batch.max_timestamp,
        "row_count": batch.row_count,
        "digest": batch.digest,
        "size": batch.size,
        "created_at": batch.created_at,
    }


def batch_from_json(data: dict[str, Any]) -> PredictionLogBatch:
    return PredictionLogBatch(
        id=data["id"],
        model_name=data["model_name"],
        model_version=data.get("model_version"),
        min_timestamp=data["min_timestamp"],
        max_timestamp=data["max_timestamp"],
        row_count=data["row_count"],
        digest=data["digest"],
        size=data["size"],
        created_at=data["created_at"],
    )


def feedback_to_json(item: Feedback) -> dict[str, Any]:
    return {
        "model_name": item.model_name,
        "request_id": item.request_id,
        "label": item.label,
        "created_at": item.created_at,
    }


def feedback_from_json(data: dict[str, Any]) -> Feedback:
    return Feedback(
        model_name=data.get("model_name"),
        request_id=data["request_id"],
        label=data["label"],
        created_at=data["created_at"],
    )


def monitor_to_json(monitor: MonitorRecord) -> dict[str, Any]:
    return {
        "id": monitor.id,
        "model_uri": monitor.model_uri,
        "every_seconds": monitor.every_seconds,
        "webhook": monitor.webhook,
        "thresholds": monitor.thresholds,
        "config": monitor.config,
        "state": monitor.state,
        "enabled": monitor.enabled,
        "last_run_at": monitor.last_run_at,
        "next_run_at": monitor.next_run_at,
        "created_at": monitor.created_at,
        "updated_at": monitor.updated_at,
    }


def monitor_from_json(data: dict[str, Any]) -> MonitorRecord:
    return MonitorRecord(
        id=data["id"],
        model_uri=data["model_uri"],
        every_seconds=data["every_seconds"],
        webhook=data.get("webhook"),
        thresholds=dict(data.get("thresholds") or {}),
        config=dict(data.get("config") or {}),
        state=data["state"],
        enabled=bool(data["enabled"]),
        last_run_at=data.get("last_run_at"),
        next_run_at=data["next_run_at"],
        created_at=data["created_at"],
        updated_at=data["updated_at"],
    )


def report_to_json(report: ReportRecord) -> dict[str, Any]:
    return {
        "id": report.id,
        "monitor_id": report.monitor_id,
        "model_name": report.model_name,
        "model_version": report.model_version,
        "created_at": report.created_at,
        "dataset_drift": report.dataset_drift,
        "drift_share": report.drift_share,
        "summary": report.summary,
        "report_digest": report.report_digest,
        "html_digest": report.html_digest,
        "reference": report.reference,
        "window_start": report.window_start,
        "window_end": report.window_end,
        "row_count": report.row_count,
    }


def report_from_json(data: dict[str, Any]) -> ReportRecord:
    share = data.get("drift_share")
    return ReportRecord(
        id=data["id"],
        monitor_id=data.get("monitor_id"),
        model_name=data["model_name"],
        model_version=data.get("model_version"),
        created_at=data["created_at"],
        dataset_drift=bool(data["dataset_drift"]),
        drift_share=None if share is None else float(share),
        summary=dict(data.get("summary") or {}),
        report_digest=data["report_digest"],
        html_digest=data.get("html_digest"),
        reference=data.get("reference"),
        window_start=data.get("window_start"),
        window_end=data.get("window_end"),
        row_count=data.get("row_count"),
    )
