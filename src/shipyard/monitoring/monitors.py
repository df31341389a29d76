"""Monitors: a model checked on a schedule, with thresholds and an optional webhook.

::

    m = sy.monitoring.add_monitor("models:/digits@production", every="1h",
                                  webhook="https://hooks.example/alerts",
                                  thresholds={"drift_share": 0.3, "accuracy_drop": 0.05})
    sy.monitoring.run_monitor(m.id)       # one check now: a stored report, maybe an alert

A monitor's model URI is resolved at each run, so one on an alias follows the
alias. Its window defaults to its period (a monitor every hour looks at the last
hour). :mod:`shipyard.monitoring.runner` runs the due ones; alerts are described
in :mod:`shipyard.monitoring.alerts`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.errors import InvalidInputError, NotFoundError, ShipyardError
from shipyard.monitoring.alerts import alert_message, alert_payload, send_webhook, should_alert
from shipyard.monitoring.thresholds import check_thresholds
from shipyard.monitoring.windows import Window, parse_duration

if TYPE_CHECKING:
    from shipyard.monitoring.reports import MonitorReport
    from shipyard.store.monitoring_base import MonitorRecord
    from shipyard.tracking.client import Client

__all__ = [
    "MonitorRun",
    "add_monitor",
    "find_monitor",
    "list_monitors",
    "monitor_window",
    "remove_monitor",
    "run_monitor",
    "run_monitor_record",
]

log = logging.getLogger("shipyard.monitoring")

_CONFIG_KEYS = ("reference", "window_seconds", "last_n", "target", "name", "trust")


def _client(client: Client | None) -> Client:
    from shipyard.models.resolve import client_or_default

    return client_or_default(client)


def _seconds(value: str | int, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise InvalidInputError(f"{what} must be at least one second, got {value}")
        return value
    ms = parse_duration(value)
    if ms < 1000 or ms % 1000:
        raise InvalidInputError(f"{what} must be a whole number of seconds, got {value!r}")
    return ms // 1000


def add_monitor(
    model_uri: str,
    every: str | int = "1h",
    *,
    webhook: str | None = None,
    thresholds: Mapping[str, Any] | None = None,
    reference: str | None = None,
    window: str | int | None = None,
    last: int | None = None,
    target: str | None = None,
    name: str | None = None,
    trust: bool = False,
    start_at: int | None = None,
    client: Client | None = None,
) -> MonitorRecord:
    """Store a monitor of ``model_uri`` run every ``every`` (``"1h"``, or seconds).

    The model and the reference are checked now, so that a typo fails here and
    not an hour later. ``window`` / ``last``: what each run reads (default: the
    period). The first run is due at ``start_at`` (ms; default now).
    """
    from shipyard.data.api import resolve_in
    from shipyard.models.resolve import resolve

    c = _client(client)
    period = _seconds(every, "--every")
    limits = check_thresholds(thresholds)
    model = resolve(model_uri, client=c)
    if model.name is None and name is None:
        raise InvalidInputError(
            f"{model_uri} is not a registered version: give the name its server logs under (--name)"
        )
    if reference is not None:
        # Checked now, stored as given: ``@latest`` or a tag follows the dataset at each run.
        resolve_in(c.store, reference)
    config: dict[str, Any] = {"trust": bool(trust)}
    if window is not None and last is not None:
        raise InvalidInputError("give a window or --last, not both")
    if window is not None:
        config["window_seconds"] = _seconds(window, "--window")
    if last is not None:
        Window(last_n=last)  # checks it
        config["last_n"] = last
    for key, value in (("reference", reference), ("target", target), ("name", name)):
        if value is not None:
            config[key] = value
    return c.store.create_monitor(
        model_uri, period, webhook=webhook, thresholds=limits, config=config, next_run_at=start_at
    )


def list_monitors(
    model_uri: str | None = None, *, client: Client | None = None
) -> list[MonitorRecord]:
    return _client(client).store.list_monitors(model_uri)


def find_monitor(id_or_prefix: str, *, client: Client | None = None) -> MonitorRecord:
    """A monitor by its id or a unique prefix of it (as ``monitor ls`` shows 8 characters)."""
    c = _client(client)
    text = id_or_prefix.strip().lower()
    if len(text) < 4:
        raise InvalidInputError("give at least 4 characters of the monitor id")
    matches = [m for m in c.store.list_monitors() if m.id.startswith(text)]
    if not matches:
        raise NotFoundError(f"no monitor with id {id_or_prefix!r}")
    if len(matches) > 1:
        raise InvalidInputError(f"{id_or_prefix!r} names {len(matches)} monitors: give more of it")
    return matches[0]


def remove_monitor(id_or_prefix: str, *, client: Client | None = None) -> MonitorRecord:
    """Delete a monitor (its reports stay); returns what it was."""
    c = _client(client)
    monitor = find_monitor(id_or_prefix, client=c)
    c.store.delete_monitor(monitor.id)
    return monitor


def monitor_window(monitor: MonitorRecord) -> Window:
    """What a run of ``monitor`` reads: its ``last_n`` rows, its window, or its period."""
    config = monitor.config
    if config.get("last_n") is not None:
        return Window(last_n=int(config["last_n"]))
    return Window(seconds=int(config.get("window_seconds") or monitor.every_seconds))


@dataclass(frozen=True)
class MonitorRun:
    """What one run of a monitor did.

    ``state`` is the monitor's state after the run: the report's status, ``error``
    when the check failed, or the previous state when the window held no
    prediction (``no_data``: nothing to judge, nothing stored).
    """

    monitor: MonitorRecord
    previous: str
    state: str
    report: MonitorReport | None = None
    error: str | None = None
    no_data: bool = False
    alerted: bool = False
    delivered: bool | None = None  # None: no webhook was called


def run_monitor_record(
    client: Client,
    monitor: MonitorRecord,
    *,
    webhook_timeout: float = 5.0,
    webhook_retries: int = 3,
    stop: threading.Event | None = None,
) -> MonitorRun:
    """Check ``monitor`` now: store a report, store the new state, alert on a change.

    Never raises for a failed check: the failure becomes the ``error`` state.
    """
    from shipyard.monitoring.report_service import NoPredictionsError, report

    previous = monitor.state
    config = {k: monitor.config.get(k) for k in _CONFIG_KEYS}
    result: MonitorReport | None = None
    error: str | None = None
    try:
        result = report(
            monitor.model_uri,
            config["reference"],
            monitor_window(monitor),
            target=config["target"],
            name=config["name"],
            thresholds=monitor.thresholds,
            trust=bool(config["trust"]),
            monitor_id=monitor.id,
            client=client,
        )
        state = result.status
    except NoPredictionsError as exc:
        log.info("monitor %s %s: %s", monitor.id[:8], monitor.model_uri, exc.message)
        return MonitorRun(monitor, previous, previous, no_data=True)
    except ShipyardError as exc:
        error, state = exc.message, "error"
    except Exception as exc:  # a scheduler must outlive any one check
        log.exception("monitor %s %s failed", monitor.id[:8], monitor.model_uri)
        error, state = f"{type(exc).__name__}: {exc}", "error"
    updated = monitor
    try:
        updated = client.store.update_monitor(monitor.id, state=state)
    except NotFoundError:
        pass  # deleted while it ran: its report stays, nobody is left to alert
    except ShipyardError as exc:
        log.error("monitor %s: its state could not be stored: %s", monitor.id[:8], exc.message)
    if not should_alert(previous, state):
        if error is not None:
            log.warning("monitor %s %s: %s", monitor.id[:8], monitor.model_uri, error)
        return MonitorRun(updated, previous, state, result, error)
    message = alert_message(monitor, previous, state, result, error)
    level = logging.INFO if state == "ok" else logging.WARNING
    log.log(level, "ALERT %s", message)
    delivered = None
    if monitor.webhook:
        payload = alert_payload(monitor, previous, state, result, error)
        delivered = send_webhook(
            monitor.webhook, payload, timeout=webhook_timeout, retries=webhook_retries, stop=stop
        )
    return MonitorRun(updated, previous, state, result, error, alerted=True, delivered=delivered)


def run_monitor(id_or_prefix: str, *, client: Client | None = None) -> MonitorRun:
    """Run one monitor now, whether due or not (its schedule is left as it is)."""
    c = _client(client)
    return run_monitor_record(c, find_monitor(id_or_prefix, client=c))
