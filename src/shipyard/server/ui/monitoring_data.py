"""What the monitoring pages show of a model's report series: statuses, the drift and
quality points over time, and the alerts a monitor raised.

Everything here comes from report rows (their small ``summary``), not from the
report blobs, so a model's history of hundreds of reports costs one query.

Alerts are not stored: a monitor keeps only its current state. They are derived
from its reports in the order they were made, with the rule the scheduler uses
(:func:`shipyard.monitoring.alerts.should_alert`): a report whose status differs
from the one before raised an alert, except a first report that found nothing.
A failed check stores no report, only the ``error`` state; that change shows as
one more alert at the monitor's last run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shipyard.monitoring.alerts import should_alert
from shipyard.store.monitoring_base import MonitorRecord, ReportRecord

__all__ = [
    "STATUS_LABELS",
    "Alert",
    "QualityPoint",
    "SeriesPoint",
    "chronological",
    "drift_chart",
    "monitor_alerts",
    "newest_first",
    "quality_chart",
    "quality_metrics",
    "report_status",
    "report_time",
    "series",
    "status_label",
    "status_tone",
]

# Report statuses (shipyard.monitoring.reports.STATUSES) and the monitor-only states.
STATUS_LABELS = {
    "ok": "OK",
    "drift": "Drift",
    "quality_drop": "Quality drop",
    "drift_and_quality_drop": "Drift + quality drop",
    "error": "Error",
    "pending": "Pending",
}
_TONES = {
    "ok": "ok",
    "drift": "bad",
    "quality_drop": "warn",
    "drift_and_quality_drop": "bad",
    "error": "bad",
}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def status_tone(status: str) -> str:
    """``ok``, ``warn``, ``bad`` or ``neutral``: the badge colour of a status."""
    return _TONES.get(status, "neutral")


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def report_status(report: ReportRecord) -> str:
    """The report's status; a row written before statuses existed says only drift or not."""
    status = report.summary.get("status")
    if isinstance(status, str) and status in STATUS_LABELS:
        return status
    quality_drop = report.summary.get("quality_drop") is True
    if report.dataset_drift:
        return "drift_and_quality_drop" if quality_drop else "drift"
    return "quality_drop" if quality_drop else "ok"


def report_time(report: ReportRecord) -> int:
    """When the report's data ends (its window), else when it was made: the time axis."""
    return report.window_end if report.window_end is not None else report.created_at


def chronological(reports: Iterable[ReportRecord]) -> list[ReportRecord]:
    """Oldest first, in the order they were made (the window breaks a tie of creation times)."""
    return sorted(reports, key=lambda r: (r.created_at, report_time(r), r.id))


@dataclass(frozen=True, slots=True)
class QualityPoint:
    """One metric in one report: live score, the baseline's, and whether it dropped."""

    current: float
    baseline: float | None
    dropped: bool


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One report on the time axis."""

    report_id: str
    at: int
    created_at: int
    version: int | None
    status: str
    drift_share: float | None
    dataset_drift: bool
    threshold: float | None
    drifted_count: int | None
    tested_count: int | None
    labelled_rows: int | None
    quality: dict[str, QualityPoint] = field(default_factory=dict)


def _quality(summary: dict[str, Any]) -> dict[str, QualityPoint]:
    found: dict[str, QualityPoint] = {}
    compared = summary.get("quality")
    for metric, item in compared.items() if isinstance(compared, dict) else []:
        current = _number(item.get("current")) if isinstance(item, dict) else None
        if current is not None:
            baseline = _number(item.get("baseline"))
            found[str(metric)] = QualityPoint(current, baseline, item.get("dropped") is True)
    metrics = summary.get("metrics")
    for metric, value in metrics.items() if isinstance(metrics, dict) else []:
        number = _number(value)
        if number is not None and str(metric) not in found:
            found[str(metric)] = QualityPoint(number, None, False)
    return found


def series(reports: Iterable[ReportRecord]) -> list[SeriesPoint]:
    """The reports as points, oldest first."""
    points = []
    for report in chronological(reports):
        summary = report.summary
        points.append(
            SeriesPoint(
                report_id=report.id,
                at=report_time(report),
                created_at=report.created_at,
                version=report.model_version,
                status=report_status(report),
                drift_share=report.drift_share,
                dataset_drift=report.dataset_drift,
                threshold=_number(summary.get("drift_share_threshold")),
                drifted_count=_count(summary.get("drifted_count")),
                tested_count=_count(summary.get("tested_count")),
                labelled_rows=_count(summary.get("labelled_rows")),
                quality=_quality(summary),
            )
        )
    return points


def _version_label(version: int | None) -> str:
    return "unversioned" if version is None else f"v{version}"


def drift_chart(points: Sequence[SeriesPoint]) -> dict[str, Any]:
    """The drift chart's data: one line of drifted shares per model version (so a new
    version starts a new line), the threshold, and the reports that found dataset drift.

    Times are seconds since the epoch, as uPlot's time axis takes them.
    """
    versions = list(dict.fromkeys(_version_label(p.version) for p in points))
    lines = {
        label: [p.drift_share if _version_label(p.version) == label else None for p in points]
        for label in versions
    }
    return {
        "x": [p.at / 1000 for p in points],
        "lines": [{"label": label, "values": values} for label, values in lines.items()],
        "threshold": [p.threshold for p in points],
        "drift": [p.drift_share if p.dataset_drift else None for p in points],
        "status": [status_label(p.status) for p in points],
        "reports": [p.report_id for p in points],
    }


def quality_metrics(points: Sequence[SeriesPoint], most: int = 4) -> list[str]:
    """The metrics to draw: those compared with a baseline (the ones that can drop);
    without any, the first ``most`` the reports scored. A report's page has them all."""
    compared = sorted({m for p in points for m, q in p.quality.items() if q.baseline is not None})
    return compared or sorted({m for p in points for m in p.quality})[:most]


def quality_chart(points: Sequence[SeriesPoint], metrics: Sequence[str]) -> dict[str, Any]:
    """Per metric: the live score and the baseline at each report that scored it."""
    scored = [p for p in points if p.quality]
    charts = []
    for metric in metrics:
        values = [p.quality.get(metric) for p in scored]
        charts.append(
            {
                "metric": metric,
                "current": [None if q is None else q.current for q in values],
                "baseline": [None if q is None else q.baseline for q in values],
                "dropped": [None if q is None or not q.dropped else q.current for q in values],
            }
        )
    return {"x": [p.at / 1000 for p in scored], "charts": charts}


# -- alerts --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Alert:
    """A change of a monitor's state, at the report's time (:func:`report_time`);
    ``report_id`` None when the check stored no report."""

    monitor: MonitorRecord
    at: int
    previous: str
    state: str
    report_id: str | None
    detail: str


def _detail(point: SeriesPoint) -> str:
    parts = []
    if point.drifted_count is not None and point.tested_count is not None:
        parts.append(f"{point.drifted_count} of {point.tested_count} columns drifted")
    elif point.drift_share is not None:
        parts.append(f"{point.drift_share:.0%} of the columns drifted")
    dropped = [metric for metric, q in point.quality.items() if q.dropped]
    if dropped:
        parts.append("dropped: " + ", ".join(dropped))
    return "; ".join(parts)


def monitor_alerts(
    monitor: MonitorRecord, reports: Iterable[ReportRecord], from_start: bool = True
) -> list[Alert]:
    """The alerts ``monitor`` raised over ``reports`` (its own), newest first.

    ``from_start=False``: older reports were left out, so the oldest one given only
    sets the state (whether it changed from the one before is unknown).
    """
    alerts = []
    state = "pending" if from_start else ""
    for point in series(r for r in reports if r.monitor_id == monitor.id):
        if state and should_alert(state, point.status):
            alerts.append(
                Alert(monitor, point.at, state, point.status, point.report_id, _detail(point))
            )
        state = point.status
    if monitor.state == "error" and state not in ("", "error") and monitor.last_run_at is not None:
        alerts.append(Alert(monitor, monitor.last_run_at, state, "error", None, "the check failed"))
    return alerts[::-1]


def newest_first(alerts: Iterable[Alert]) -> list[Alert]:
    return sorted(alerts, key=lambda a: a.at, reverse=True)
