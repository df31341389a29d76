"""Metric points leave the training loop through a queue and a background thread.

``MetricBatcher.add`` only appends a tuple to a deque (no lock, no I/O), so a
``log_metric`` call costs a few microseconds. A daemon thread wakes every
``interval_s``, or as soon as ``batch_size`` points wait, and drains the deque
in batches of everything queued, up to ``max_batch_size`` points: a fast
training loop gets few large requests. Each batch goes by column to
``Store.log_metric_columns`` under one idempotency key, reused on every retry,
so a retried batch is stored once; batches go one at a time, in order.

When the store cannot be reached, a batch is retried with exponential backoff
for about ``retry_seconds`` in all; after that its points are counted as lost,
later batches get a single try each until one succeeds again, and ``close``
emits one :class:`MetricsNotStoredWarning` with the number of points not stored.
The batcher owns that budget: the client hands it a store whose calls are tried
once (no retries of their own inside each of the batcher's).
"""

from __future__ import annotations

import collections
import logging
import operator
import threading
import time
import uuid
import warnings
from collections.abc import Sequence

from shipyard.errors import ServiceUnavailableError, ShipyardError
from shipyard.store.base import Store
from shipyard.validation import MAX_BATCH_METRICS

__all__ = ["MetricBatcher", "MetricsNotStoredWarning"]

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 1000
DEFAULT_MAX_BATCH_SIZE = MAX_BATCH_METRICS
DEFAULT_INTERVAL_S = 0.5
DEFAULT_RETRY_SECONDS = 30.0

Point = tuple[str, float, int, int]  # key, value, step, timestamp
_FIELDS = [operator.itemgetter(index) for index in range(4)]


class MetricsNotStoredWarning(UserWarning):
    """Some metric points could not be stored after every retry."""


def backoff_delays(total_seconds: float, first: float = 0.25, cap: float = 4.0) -> list[float]:
    """Exponential delays (first, 2*first, ... capped) whose sum reaches ``total_seconds``."""
    delays: list[float] = []
    delay, spent = first, 0.0
    while spent < total_seconds:
        step = min(delay, cap, total_seconds - spent)
        delays.append(step)
        spent += step
        delay *= 2
    return delays


class MetricBatcher:
    """Sends one run's metric points in the background; see the module docstring."""

    def __init__(
        self,
        store: Store,
        run_id: str,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
        interval_s: float = DEFAULT_INTERVAL_S,
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
    ) -> None:
        self._store = store
        self._run_id = run_id
        self._batch_size = batch_size
        self._max_batch_size = max(batch_size, max_batch_size)
        self._interval_s = interval_s
        self._retry_seconds = retry_seconds
        self._delays = backoff_delays(retry_seconds)
        self._queue: collections.deque[Point] = collections.deque()
        self._wake = threading.Event()
        self._start_lock = threading.Lock()
        self._drain_lock = threading.Lock()  # one drainer at a time keeps batches in order
        self._count_lock = threading.Lock()
        self._done_changed = threading.Condition()
        self._taken = 0  # points taken off the queue
        self._done = 0  # points sent or counted as lost
        self._thread: threading.Thread | None = None
        self._closed = False
        self._healthy = True
        self.points_sent = 0
        self.points_lost = 0
        self._last_error: BaseException | None = None

    @property
    def store(self) -> Store:
        return self._store

    @property
    def healthy(self) -> bool:
        """False once a batch was given up on and none has been stored since."""
        return self._healthy

    # -- producer side (the training loop) ----------------------------------
    def add(self, point: Point) -> None:
        queue = self._queue
        queue.append(point)
        if self._thread is None:
            self._start()
        elif len(queue) == self._batch_size:
            self._wake.set()

    def flush(self) -> None:
        """Return once every point added before this call was sent (or counted lost)."""
        with self._count_lock:
            target = self._taken + len(self._queue)
        if self._done >= target:
            return
        self._wake.set()
        with self._done_changed:
            while self._done < target:
                if not self._done_changed.wait(0.2):
                    thread = self._thread
                    if thread is None or not thread.is_alive():
                        # The worker is gone (interpreter shutdown): send from here.
                        self._done_changed.release()
                        try:
                            self._drain()
                        finally:
                            self._done_changed.acquire()

    def close(self) -> int:
        """Flush, stop the thread and warn once if points were lost; returns the lost count."""
        if self._closed:
            return self.points_lost
        self.flush()
        self._closed = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        if self.points_lost:
            reason = f": {self._last_error}" if self._last_error is not None else ""
            message = (
                f"{self.points_lost} metric point(s) of run {self._run_id} were not stored{reason}"
            )
            log.warning(message)
            warnings.warn(message, MetricsNotStoredWarning, stacklevel=2)
        return self.points_lost

    # -- consumer side (the background thread) ------------------------------
    def _start(self) -> None:
        with self._start_lock:
            if self._thread is not None:
                return
            thread = threading.Thread(
                target=self._loop, name=f"shipyard-metrics-{self._run_id[:8]}", daemon=True
            )
            self._thread = thread
            thread.start()

    def _loop(self) -> None:
        while True:
            self._wake.wait(self._interval_s)
            self._wake.clear()
            self._drain()
            if self._closed and not self._queue:
                return

    def _drain(self) -> None:
        queue = self._queue
        with self._drain_lock:
            while True:
                with self._count_lock:
                    count = min(len(queue), self._max_batch_size)
                    if count == 0:
                        return
                    popleft = queue.popleft
                    batch = [popleft() for _ in range(count)]
                    self._taken += count
                self._send(batch)
                with self._done_changed:
                    self._done += count
                    self._done_changed.notify_all()

    def _send(self, points: Sequence[Point]) -> None:
        if not points:
            return
        # One column per field: three times faster than zip(*points).
        keys, values, steps, timestamps = (list(map(_FIELDS[i], points)) for i in range(4))
        idempotency_key = uuid.uuid4().hex
        delays = self._delays if self._healthy else []
        attempt = 0
        deadline = time.monotonic() + self._retry_seconds
        while True:
            try:
                self._store.log_metric_columns(
                    self._run_id, keys, values, steps, timestamps, idempotency_key
                )
            except ServiceUnavailableError as exc:
                error: BaseException = exc
            except ShipyardError as exc:
                # The store refused the batch itself (deleted run, bad value): no retry helps.
                self._lose(len(points), exc)
                return
            except Exception as exc:
                error = exc
            else:
                self._healthy = True
                self.points_sent += len(points)
                return
            if attempt >= len(delays) or time.monotonic() + delays[attempt] > deadline:
                self._healthy = False
                self._lose(len(points), error)
                return
            log.debug("metric batch for run %s failed (%s); retrying", self._run_id, error)
            time.sleep(delays[attempt])
            attempt += 1

    def _lose(self, count: int, error: BaseException) -> None:
        self.points_lost += count
        self._last_error = error
        log.debug("dropped %d metric point(s) of run %s: %s", count, self._run_id, error)
