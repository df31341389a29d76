"""Prometheus metrics of a model server, in one registry per app.

Label values stay few: ``model`` is the served name, ``version`` the model
version that answered (empty when none did, e.g. for malformed bodies),
``endpoint`` the route template (``/v2/models/{name}/infer``), never a raw path.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

__all__ = ["ServingMetrics"]

# Model servers answer in milliseconds: finer buckets than the client library's default.
_LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class _PredictionLogCollector(Collector):
    """Reads the prediction logger's own counts when scraped."""

    def __init__(self, model: str, counts: Callable[[], tuple[int, int] | None]) -> None:
        self._model = model
        self._counts = counts

    def collect(self) -> Iterator[CounterMetricFamily]:
        counts = self._counts()
        if counts is None:
            return
        logged, dropped = counts
        logged_family = CounterMetricFamily(
            "shipyard_serving_prediction_log_written",
            "Prediction-log records written to the store.",
            labels=["model"],
        )
        logged_family.add_metric([self._model], logged)
        yield logged_family
        dropped_family = CounterMetricFamily(
            "shipyard_serving_prediction_log_dropped",
            "Prediction-log records dropped instead of written (a full queue, a failed write).",
            labels=["model"],
        )
        dropped_family.add_metric([self._model], dropped)
        yield dropped_family


class ServingMetrics:
    def __init__(self, model: str) -> None:
        self.model = model
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "shipyard_serving_requests",
            "Requests answered, by served model, the version that answered, endpoint and status.",
            ["model", "version", "endpoint", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "shipyard_serving_request_duration_seconds",
            "Time from receiving a request to finishing its answer.",
            ["model", "endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.inference_seconds = Histogram(
            "shipyard_serving_inference_duration_seconds",
            "Time of one model call (one batch), in the model thread.",
            ["model", "version"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "shipyard_serving_batch_size",
            "Requests that shared one model call.",
            ["model", "version"],
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.batch_rows = Histogram(
            "shipyard_serving_batch_rows",
            "Rows in one model call.",
            ["model", "version"],
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge(
            "shipyard_serving_in_flight_requests",
            "Requests being answered now.",
            ["model"],
            registry=r,
        )
        self.load_seconds = Gauge(
            "shipyard_serving_model_load_duration_seconds",
            "How long loading and checking a model version took.",
            ["model", "version"],
            registry=r,
        )
        self.info = Gauge(
            "shipyard_serving_model_info",
            "1 for each model version loaded now; role is primary or canary.",
            ["model", "version", "role", "uri", "flavor"],
            registry=r,
        )
        self.swaps = Counter(
            "shipyard_serving_model_swaps",
            "Versions swapped in after an alias moved.",
            ["model", "role"],
            registry=r,
        )
        self.swap_failures = Counter(
            "shipyard_serving_model_swap_failures",
            "Versions that failed to load or to predict on their input example.",
            ["model", "role"],
            registry=r,
        )
        self._in_flight = self.in_flight.labels(model)

    def batch_observer(self, version: str) -> Callable[[int, int, float], None]:
        """What a batcher calls after each model call (from its thread)."""
        size = self.batch_size.labels(self.model, version)
        rows = self.batch_rows.labels(self.model, version)
        seconds = self.inference_seconds.labels(self.model, version)

        def observe(requests: int, row_count: int, elapsed: float) -> None:
            size.observe(requests)
            rows.observe(row_count)
            seconds.observe(elapsed)

        return observe

    def observe_request(self, version: str, endpoint: str, status: int, elapsed: float) -> None:
        self.requests.labels(self.model, version, endpoint, str(status)).inc()
        self.request_seconds.labels(self.model, endpoint).observe(elapsed)

    def request_started(self) -> None:
        self._in_flight.inc()

    def request_finished(self) -> None:
        self._in_flight.dec()

    def loaded(self, version: str, role: str, uri: str, flavor: str, seconds: float) -> None:
        self.load_seconds.labels(self.model, version).set(seconds)
        self.info.labels(self.model, version, role, uri, flavor).set(1)

    def unloaded(self, version: str, role: str, uri: str, flavor: str) -> None:
        with contextlib.suppress(KeyError):
            self.info.remove(self.model, version, role, uri, flavor)

    def watch_prediction_log(self, counts: Callable[[], tuple[int, int] | None]) -> None:
        """Export the logger's (logged, dropped) counts, read at each scrape."""
        self.registry.register(_PredictionLogCollector(self.model, counts))
