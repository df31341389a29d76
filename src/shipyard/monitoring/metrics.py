"""Prometheus gauges of the monitors, read from the store at scrape time.

Served by the tracking server's ``/metrics`` when it runs the scheduler
(``shipyard server --monitors``), or by ``shipyard monitor run --metrics-port``.
Each enabled monitor's newest report gives, labelled ``model`` (the logged
name), ``version`` and ``monitor`` (the monitor id):

- ``shipyard_monitor_drift_share``: the share of feature columns that drifted;
- ``shipyard_monitor_dataset_drift``: 1 when the dataset drifted;
- ``shipyard_monitor_prediction_drift``: 1 when the predictions drifted;
- ``shipyard_monitor_quality_drop``: 1 when a quality metric dropped;
- ``shipyard_monitor_quality{metric}``: each compared metric's live value;
- ``shipyard_monitor_rows``: predictions in the report's window;
- ``shipyard_monitor_last_report_timestamp_seconds``;

and per monitor ``shipyard_monitor_alerting`` (1 while its state is a problem:
drift, quality drop or error). Reading the store rather than the scheduler's
memory keeps the values across restarts and agrees between processes; reads
are cached for a few seconds, so frequent scrapes cost little.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from shipyard.errors import ShipyardError
from shipyard.monitoring.alerts import PROBLEM_STATES

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from shipyard.store.base import Store
    from shipyard.store.monitoring_base import MonitorRecord, ReportRecord

__all__ = ["MonitorCollector", "serve_metrics"]

log = logging.getLogger("shipyard.monitoring")

_CACHE_SECONDS = 5.0
_LABELS = ["model", "version", "monitor"]


class MonitorCollector(Collector):
    def __init__(self, store: Store, cache_seconds: float = _CACHE_SECONDS) -> None:
        self._store = store
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._read_at = -float("inf")
        self._latest: list[tuple[MonitorRecord, ReportRecord | None]] = []

    def _read(self) -> list[tuple[MonitorRecord, ReportRecord | None]]:
        with self._lock:
            if time.monotonic() - self._read_at < self._cache_seconds:
                return self._latest
            found: list[tuple[MonitorRecord, ReportRecord | None]] = []
            try:
                for monitor in self._store.list_monitors(enabled=True):
                    page = self._store.list_reports(monitor_id=monitor.id, max_results=1)
                    found.append((monitor, page.items[0] if page.items else None))
            except ShipyardError as exc:
                log.warning("monitor gauges not read: %s", exc.message)
                return self._latest
            self._latest, self._read_at = found, time.monotonic()
            return found

    def collect(self) -> Iterator[GaugeMetricFamily]:
        latest = self._read()
        drift_share = GaugeMetricFamily(
            "shipyard_monitor_drift_share",
            "Share of feature columns that drifted in the monitor's newest report.",
            labels=_LABELS,
        )
        dataset = GaugeMetricFamily(
            "shipyard_monitor_dataset_drift",
            "1 when the newest report found dataset drift.",
            labels=_LABELS,
        )
        prediction = GaugeMetricFamily(
            "shipyard_monitor_prediction_drift",
            "1 when the newest report found drift of the predictions.",
            labels=_LABELS,
        )
        dropped = GaugeMetricFamily(
            "shipyard_monitor_quality_drop",
            "1 when a quality metric in the newest report dropped below its baseline.",
            labels=_LABELS,
        )
        quality = GaugeMetricFamily(
            "shipyard_monitor_quality",
            "A quality metric on the labelled predictions of the newest report.",
            labels=[*_LABELS, "metric"],
        )
        rows = GaugeMetricFamily(
            "shipyard_monitor_rows",
            "Logged predictions in the newest report's window.",
            labels=_LABELS,
        )
        stamp = GaugeMetricFamily(
            "shipyard_monitor_last_report_timestamp_seconds",
            "When the newest report was made.",
            labels=_LABELS,
        )
        alerting = GaugeMetricFamily(
            "shipyard_monitor_alerting",
            "1 while the monitor's state is drift, quality_drop or error.",
            labels=["monitor", "model_uri", "state"],
        )
        for monitor, report in latest:
            alerting.add_metric(
                [monitor.id, monitor.model_uri, monitor.state],
                1.0 if monitor.state in PROBLEM_STATES else 0.0,
            )
            if report is None:
                continue
            labels = [
                report.model_name,
                "" if report.model_version is None else str(report.model_version),
                monitor.id,
            ]
            summary = report.summary
            if report.drift_share is not None:
                drift_share.add_metric(labels, report.drift_share)
            dataset.add_metric(labels, 1.0 if report.dataset_drift else 0.0)
            prediction.add_metric(labels, 1.0 if summary.get("prediction_drift") else 0.0)
            dropped.add_metric(labels, 1.0 if summary.get("quality_drop") else 0.0)
            for metric, values in (summary.get("quality") or {}).items():
                if isinstance(values, dict) and isinstance(values.get("current"), int | float):
                    quality.add_metric([*labels, str(metric)], float(values["current"]))
            if report.row_count is not None:
                rows.add_metric(labels, float(report.row_count))
            stamp.add_metric(labels, report.created_at / 1000)
        yield from (drift_share, dataset, prediction, dropped, quality, rows, stamp, alerting)


def serve_metrics(store: Store, port: int, host: str = "127.0.0.1") -> CollectorRegistry:
    """Serve the monitor gauges on ``http://host:port/metrics`` from a background thread."""
    from prometheus_client import CollectorRegistry, start_http_server

    registry = CollectorRegistry()
    registry.register(MonitorCollector(store))
    start_http_server(port, addr=host, registry=registry)
    return registry
