"""Monitoring pages: monitors, their alerts and reports; one model's drift and quality
over time; and one report.

``/monitoring`` lists every monitor with its state, the alerts they raised and
the newest reports; ``?model=NAME`` narrows it to one model and adds its drift
and quality over time (charts drawn by ``static/monitoring.js``, with the same
numbers in tables for a browser without JavaScript). ``/monitoring/reports/{id}``
shows one report: its columns (drifted first) with reference-vs-current
histograms drawn on the server, its quality against the baseline, and the
report's own HTML page in a sandboxed frame (served by the UI's raw routes).
``?column=NAME`` on a report draws that column's chart first, so a link can
point at one column.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from shipyard.errors import NotFoundError
from shipyard.server.deps import BlobStoreDep, StoreDep
from shipyard.server.ui.monitoring_data import (
    Alert,
    chronological,
    drift_chart,
    monitor_alerts,
    newest_first,
    quality_chart,
    quality_metrics,
    report_status,
    series,
    status_label,
    status_tone,
)
from shipyard.server.ui.monitoring_report import MAX_ROWS, read_report
from shipyard.server.ui.rendering import PageRoute, render
from shipyard.store.base import Store
from shipyard.store.models_base import validate_model_name
from shipyard.store.monitoring_base import MonitorRecord, ReportRecord

__all__ = ["model_href", "router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 50
MAX_SERIES = 500  # reports on a model's charts, newest
MAX_MONITOR_REPORTS = 500  # reports read per monitor to find its alerts
MAX_ALERT_MONITORS = 100
MAX_ALERTS = 100
# models:/name, models:/name/3, models:/name@alias
_MODEL_URI = re.compile(r"models:/([A-Za-z0-9_.\-]+)(?:/(\d+)|@([A-Za-z0-9_.\-]+))?")


def model_href(uri: str) -> str | None:
    """The UI page of the model a ``models:/`` URI names; None for other URIs."""
    match = _MODEL_URI.fullmatch(uri)
    if match is None:
        return None
    name, number, alias = match.groups()
    ref = number or alias
    return f"/models/{name}/{ref}" if ref else f"/models/{name}"


def _model_name(uri: str) -> str | None:
    match = _MODEL_URI.fullmatch(uri)
    return None if match is None else match.group(1)


# What the templates need to show a status and link a model, whichever page they are on.
_HELPERS: dict[str, Any] = {
    "model_href": model_href,
    "model_name_of": _model_name,
    "report_status": report_status,
    "status_label": status_label,
    "status_tone": status_tone,
}


def _monitor(store: Store, monitor_id: str | None) -> MonitorRecord | None:
    if monitor_id is None:
        return None
    try:
        return store.get_monitor(monitor_id)
    except NotFoundError:  # deleted since: the report stays
        return None


def _alerts(store: Store, monitors: list[MonitorRecord]) -> list[Alert]:
    found: list[Alert] = []
    for monitor in monitors[:MAX_ALERT_MONITORS]:
        page = store.list_reports(monitor_id=monitor.id, max_results=MAX_MONITOR_REPORTS)
        found += monitor_alerts(monitor, page.items, from_start=page.next_page_token is None)
    return newest_first(found)


def _example_uri(store: Store, name: str | None) -> str:
    """A model URI for the commands an empty page suggests."""
    if name is None:
        return "MODEL_URI"
    try:
        model = store.get_registered_model(name)
    except NotFoundError:
        return f"models:/{name}"
    return f"models:/{name}@production" if "production" in model.aliases else f"models:/{name}"


def _history(store: Store, name: str) -> dict[str, Any]:
    """One model's drift and quality over its newest reports."""
    recent = store.list_reports(model_name=name, max_results=MAX_SERIES)
    points = series(recent.items)
    metrics = quality_metrics(points)
    return {
        "points": points,
        "series_cut": recent.next_page_token is not None,
        "drift_chart": drift_chart(points),
        "metrics": metrics,
        "quality_chart": quality_chart(points, metrics),
        "scored": [p for p in points if p.quality],
    }


@router.get("/monitoring", summary="Monitors, alerts and reports")
def monitoring_page(
    request: Request,
    store: StoreDep,
    model: Annotated[str | None, Query()] = None,
    page_token: Annotated[str | None, Query()] = None,
    prev: Annotated[list[str] | None, Query()] = None,
) -> Response:
    name = validate_model_name(model) if model else None
    earlier = prev or []
    monitors = store.list_monitors()
    if name is not None:
        monitors = [m for m in monitors if _model_name(m.model_uri) == name]
    page = store.list_reports(model_name=name, max_results=PAGE_SIZE, page_token=page_token or None)
    base = {"model": name}
    next_link = (
        {**base, "page_token": page.next_page_token, "prev": [*earlier, page_token or ""]}
        if page.next_page_token
        else None
    )
    prev_link = None
    if page_token:
        prev_link = {**base, "page_token": earlier[-1] if earlier else None, "prev": earlier[:-1]}
    alerts = _alerts(store, monitors)
    changed: dict[str, int] = {}
    for alert in alerts:
        changed.setdefault(alert.monitor.id, alert.at)
    history = _history(store, name) if name is not None else None
    return render(
        request,
        "monitoring.html",
        model=name,
        monitors=monitors,
        state_since=changed,
        alerts=alerts[:MAX_ALERTS],
        alert_count=len(alerts),
        reports=page.items,
        history=history,
        example_uri=_example_uri(store, name),
        next_link=next_link,
        prev_link=prev_link,
        page_number=len(earlier) + 1 if page_token else 1,
        **_HELPERS,
    )


def _neighbours(
    reports: list[ReportRecord], report: ReportRecord
) -> tuple[ReportRecord | None, ReportRecord | None]:
    ordered = chronological(reports)
    ids = [r.id for r in ordered]
    if report.id not in ids:
        return None, None
    at = ids.index(report.id)
    return (ordered[at - 1] if at > 0 else None), (ordered[at + 1] if at + 1 < len(ids) else None)


@router.get("/monitoring/reports/{report_id}", summary="One monitoring report")
def report_page(
    request: Request,
    report_id: str,
    store: StoreDep,
    blob_store: BlobStoreDep,
    column: Annotated[str | None, Query()] = None,
) -> Response:
    report = store.get_report(report_id)
    view, problem = read_report(blob_store, report, column)
    known = view is None or any(row.drift.column == column for row in view.columns)
    if column is not None and not known:
        raise NotFoundError(f"report {report.id} has no column {column!r}")
    monitor = _monitor(store, report.monitor_id)
    recent = store.list_reports(model_name=report.model_name, max_results=MAX_SERIES)
    siblings, complete = recent.items, recent.next_page_token is None
    raised = [] if monitor is None else monitor_alerts(monitor, siblings, complete)
    alert = next((a for a in raised if a.report_id == report.id), None)
    older, newer = _neighbours(siblings, report)
    return render(
        request,
        "monitoring_report.html",
        report=report,
        status=report_status(report),
        view=view,
        problem=problem,
        pinned=column,
        max_rows=MAX_ROWS,
        monitor=monitor,
        alert=alert,
        older=older,
        newer=newer,
        facts=_scalars(report.summary) if view is None else [],
        **_HELPERS,
    )


def _scalars(summary: dict[str, Any]) -> list[tuple[str, Any]]:
    """The summary's top-level numbers, strings and flags, for a report whose JSON is lost."""
    return [
        (key, value)
        for key, value in sorted(summary.items())
        if isinstance(value, str | int | float | bool) or value is None
    ]
