"""Alerts: a log line and a JSON POST to the monitor's webhook when its state changes.

A monitor alerts on a change of state only (``ok -> drift``, ``drift -> ok``,
``ok -> quality_drop``, ``-> error`` ...), never on every run: the state of the
last run is stored on the monitor, so a second scheduler, or the same one after
a restart, does not alert again. The first run of a monitor alerts only when it
finds a problem.

The webhook gets ``POST`` with a JSON body (:func:`alert_payload`). A timeout,
a refused connection, a 5xx or a 429 answer is retried (three tries in all,
waiting 0.5 s then 1 s); a 4xx answer is not. Delivery never raises: a webhook
that stays down is logged, and the monitor's state moves on all the same (the
report holds the finding).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from shipyard.entities import now_ms

if TYPE_CHECKING:
    from shipyard.monitoring.reports import MonitorReport
    from shipyard.store.monitoring_base import MonitorRecord

__all__ = [
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT_S",
    "alert_message",
    "alert_payload",
    "send_webhook",
    "should_alert",
]

log = logging.getLogger("shipyard.monitoring")

DEFAULT_TIMEOUT_S = 5.0
DEFAULT_RETRIES = 3
_BACKOFF_S = 0.5
PROBLEM_STATES = ("drift", "quality_drop", "drift_and_quality_drop", "error")


def should_alert(previous: str, state: str) -> bool:
    """A change of state, except a first run (``pending``) that finds nothing wrong."""
    if state == previous:
        return False
    return not (previous == "pending" and state == "ok")


def _detail(report: MonitorReport | None, error: str | None) -> str:
    if error is not None:
        return error
    if report is None:
        return ""
    parts = []
    drift = report.drift
    if report.drift_found or report.status == "ok":
        parts.append(
            f"{len(drift.drifted_columns)} of {len(drift.tested_columns)} columns drifted "
            f"({drift.drifted_share:.0%}; threshold {drift.drift_share:.0%})"
        )
    if report.prediction_drift:
        parts.append("predictions drifted")
    for c in report.quality.comparisons:
        if c.dropped:
            parts.append(f"{c.metric} {c.current:.4f} vs {c.baseline:.4f} at promotion")
    return "; ".join(parts)


def alert_message(
    monitor: MonitorRecord,
    previous: str,
    state: str,
    report: MonitorReport | None,
    error: str | None = None,
) -> str:
    version = ""
    if report is not None and report.model_version is not None:
        version = f" (version {report.model_version})"
    detail = _detail(report, error)
    text = f"monitor {monitor.id[:8]} {monitor.model_uri}{version}: {previous} -> {state}"
    return f"{text}: {detail}" if detail else text


def alert_payload(
    monitor: MonitorRecord,
    previous: str,
    state: str,
    report: MonitorReport | None,
    error: str | None = None,
) -> dict[str, Any]:
    """The JSON body a webhook receives."""
    return {
        "event": "monitor_state_changed",
        "monitor_id": monitor.id,
        "model_uri": monitor.model_uri,
        "model_name": None if report is None else report.model_name,
        "model_version": None if report is None else report.model_version,
        "previous_state": previous,
        "state": state,
        "problem": state in PROBLEM_STATES,
        "message": alert_message(monitor, previous, state, report, error),
        "report_id": None if report is None else report.id,
        "summary": None if report is None else report.summary(),
        "error": error,
        "at": now_ms(),
    }


def send_webhook(
    url: str,
    payload: dict[str, Any],
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    retries: int = DEFAULT_RETRIES,
    stop: threading.Event | None = None,
) -> bool:
    """POST ``payload`` as JSON; True once a 2xx answer came. Never raises."""
    try:
        import httpx
    except ImportError as exc:  # pragma: no cover - httpx is a dependency
        log.error("webhook %s not called: %s", url, exc)
        return False
    waiter = stop if stop is not None else threading.Event()
    problem = ""
    for attempt in range(max(1, retries)):
        if attempt and waiter.wait(_BACKOFF_S * 2 ** (attempt - 1)):
            break  # shutting down
        try:
            response = httpx.post(url, json=payload, timeout=timeout)
        except httpx.HTTPError as exc:
            problem = f"{type(exc).__name__}: {exc}"
            continue
        except Exception as exc:  # a malformed URL, anything: the loop must go on
            problem = f"{type(exc).__name__}: {exc}"
            break
        if response.is_success:
            return True
        problem = f"HTTP {response.status_code}"
        if response.status_code < 500 and response.status_code != 429:
            break
    log.error("webhook %s failed for monitor %s: %s", url, payload.get("monitor_id"), problem)
    return False
