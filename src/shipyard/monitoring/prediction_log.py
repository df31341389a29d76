"""Prediction logging: what a model server answered, stored as Parquet files in the blob store.

The server hands each answered request to :meth:`PredictionLogger.submit`,
which only appends to a bounded in-memory queue: it never blocks on I/O and
never raises. A background thread drains the queue into one Parquet file per
flush and model version (every ``flush_rows`` rows or ``flush_seconds``,
whichever comes first), stores the file as a blob and indexes it in the
metadata store (:class:`shipyard.store.monitoring_base.PredictionLogBatch`).
When the queue is full, or the store is down long enough to fill it, requests
are dropped from the log and counted (:attr:`PredictionLogger.dropped`); the
requests themselves are never slowed.

A log file holds one row per prediction (a request of N rows gives N rows):

=================  ===========  ====================================================
column             type         meaning
=================  ===========  ====================================================
request_id         string       the id the server answered with
row                int32        position of the row in its request (0-based)
timestamp          int64        when the request arrived, ms since the epoch
model_version      int64        registry version that answered (null: unversioned)
endpoint           string       the route, e.g. ``/v2/models/digits/infer``
latency_ms         float64      the whole request's latency
<features>         per input    tensor input ``[n, k]``: ``input_0 .. input_{k-1}``
                                (or ``input_names``); ``[n]``: ``input``; wider than
                                1,024 values a row: one list column ``input``.
                                Table input: one column per input column, its name;
                                a name that clashes with the columns here is
                                prefixed ``input.``
prediction         per output   1-D output; ``[n, k]``: ``prediction_0 ..``
probability_<j>    float        class probabilities, when the server passes them
=================  ===========  ====================================================

:func:`read_prediction_logs` reads them back as one Arrow table, with a
``label`` column joined from feedback (:mod:`shipyard.monitoring.feedback`).
"""

from __future__ import annotations

import io
import logging
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from shipyard.errors import InvalidInputError
from shipyard.monitoring.prediction_log_table import (
    LABEL_COLUMN,
    META_COLUMNS,
    build_table,
    feature_columns,
    iter_prediction_logs,
    join_feedback,
    read_prediction_logs,
)
from shipyard.store.monitoring_checks import check_model_name

if TYPE_CHECKING:
    import pyarrow as pa  # type: ignore[import-untyped]

    from shipyard.tracking.client import Client

__all__ = [
    "LABEL_COLUMN",
    "META_COLUMNS",
    "PredictionLogger",
    "feature_columns",
    "iter_prediction_logs",
    "join_feedback",
    "read_prediction_logs",
]

log = logging.getLogger(__name__)

_COMPRESSION = "zstd"
_MAX_RETRY_DELAY_S = 30.0
_WARN_EVERY_S = 60.0


@dataclass(slots=True)
class _Entry:
    request_id: str
    timestamp_ms: int
    model_version: int | None
    endpoint: str
    inputs: Any
    outputs: Any
    probabilities: Any
    latency_ms: float
    rows: int


class PredictionLogger:
    """Logs a model's predictions in the background; see the module docstring.

    ``sample`` is the fraction of requests logged (decided per request).
    ``max_queue`` bounds the rows held in memory. ``input_names`` names the
    features of a 2-D tensor input (default ``input_0 ..``). The logger keeps
    references to the arrays it is given: callers must not change them after.
    """

    def __init__(
        self,
        client: Client,
        model_name: str,
        sample: float = 1.0,
        max_queue: int = 10_000,
        flush_rows: int = 5_000,
        flush_seconds: float = 5.0,
        *,
        input_names: Sequence[str] | None = None,
    ) -> None:
        if isinstance(sample, bool) or not isinstance(sample, int | float) or not 0 <= sample <= 1:
            raise InvalidInputError(f"sample must be a fraction from 0 to 1, got {sample!r}")
        for value, what in ((max_queue, "max_queue"), (flush_rows, "flush_rows")):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{what} must be a positive integer, got {value!r}")
        if not flush_seconds > 0:
            raise InvalidInputError(f"flush_seconds must be positive, got {flush_seconds!r}")
        self.client = client
        self.model_name = check_model_name(model_name)
        self.sample = float(sample)
        self.max_queue = max_queue
        self.flush_rows = flush_rows
        self.flush_seconds = float(flush_seconds)
        self.input_names = list(input_names) if input_names is not None else None
        self._lock = threading.Lock()
        self._resolved_cv = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._buffer: list[_Entry] = []
        self._pending_rows = 0
        self._first_at = 0.0
        self._enqueued = 0  # entries appended, ever
        self._resolved = 0  # entries written or given up, ever (FIFO, so a watermark)
        self._dropped = 0
        self._logged = 0
        self._files = 0
        self._flush_wanted = False
        self._closing = False
        self._closed = False
        self._retry_at = 0.0
        self._failures = 0
        self._last_warning = 0.0
        self._thread = threading.Thread(
            target=self._run, name=f"shipyard-prediction-log-{self.model_name}", daemon=True
        )
        self._thread.start()

    # -- the request path ------------------------------------------------------------
    def submit(
        self,
        request_id: str,
        timestamp_ms: int,
        model_version: int | None,
        endpoint: str,
        inputs: Any,
        outputs: np.ndarray[Any, Any],
        latency_ms: float,
        *,
        probabilities: np.ndarray[Any, Any] | None = None,
    ) -> None:
        """Queue one answered request (N input rows, N outputs); never blocks, never raises."""
        rows = 1
        try:
            rows = len(outputs)
            if self.sample < 1.0 and random.random() >= self.sample:
                return
            if len(inputs) != rows:
                # Not one output per input row: such a request cannot be a table.
                self._count_dropped(rows)
                return
            entry = _Entry(
                request_id,
                timestamp_ms,
                model_version,
                endpoint,
                inputs,
                outputs,
                probabilities,
                latency_ms,
                rows,
            )
            with self._lock:
                if self._closing or self._pending_rows + rows > self.max_queue:
                    self._dropped += rows
                    return
                if not self._buffer:
                    self._first_at = time.monotonic()
                self._buffer.append(entry)
                self._pending_rows += rows
                self._enqueued += 1
                full = self._pending_rows >= self.flush_rows
            if full:
                self._wake.set()
        except Exception:  # the log must never fail a request
            self._count_dropped(rows)

    def _count_dropped(self, rows: int) -> None:
        with self._lock:
            self._dropped += rows

    @property
    def dropped(self) -> int:
        """Rows not logged: the queue was full, the logger closed, or the store refused them."""
        return self._dropped

    @property
    def logged(self) -> int:
        """Rows stored and indexed."""
        return self._logged

    @property
    def files(self) -> int:
        """Parquet files stored."""
        return self._files

    @property
    def pending(self) -> int:
        """Rows queued and not yet stored."""
        return self._pending_rows

    def flush(self, timeout: float = 10.0) -> bool:
        """Store what is queued now; True once it is stored (or given up), False on timeout."""
        with self._lock:
            target = self._enqueued
            self._flush_wanted = True
            self._retry_at = 0.0
        self._wake.set()
        deadline = time.monotonic() + timeout
        with self._resolved_cv:
            while self._resolved < target:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    return False
                self._resolved_cv.wait(left)
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Store what is queued (one last try) and stop the thread; later submits are dropped."""
        if self._closed:
            return
        with self._lock:
            self._closing = True
            self._retry_at = 0.0
        self._wake.set()
        self._thread.join(timeout)
        self._closed = True

    def __enter__(self) -> PredictionLogger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the background thread -------------------------------------------------------
    def _due(self) -> bool:
        if not self._buffer or time.monotonic() < self._retry_at:
            return False
        return (
            self._closing
            or self._flush_wanted
            or self._pending_rows >= self.flush_rows
            or time.monotonic() - self._first_at >= self.flush_seconds
        )

    def _run(self) -> None:
        # Imported here, at start-up, so that the first flush is not also the
        # moment a server pauses to import Arrow.
        import pyarrow.parquet  # type: ignore[import-untyped]  # noqa: F401

        while True:
            self._wake.wait(self.flush_seconds / 4)
            self._wake.clear()
            with self._lock:
                if not self._due():
                    if self._closing and (not self._buffer or self._failures > 0):
                        break
                    if not self._buffer:
                        self._flush_wanted = False
                    continue
                entries, self._buffer = self._buffer, []
                self._flush_wanted = False
            failed = self._store(entries)
            with self._resolved_cv:
                settled = len(entries) - len(failed)
                self._pending_rows -= sum(e.rows for e in entries) - sum(e.rows for e in failed)
                self._resolved += settled
                if not failed:
                    self._failures = 0
                elif self._closing:
                    self._dropped += sum(e.rows for e in failed)
                    self._pending_rows -= sum(e.rows for e in failed)
                    self._resolved += len(failed)
                else:
                    # Back to the front, for the next try; meanwhile new requests
                    # see a fuller queue and are dropped when it is full.
                    self._buffer = failed + self._buffer
                    self._failures += 1
                    delay = min(self.flush_seconds * 2 ** (self._failures - 1), _MAX_RETRY_DELAY_S)
                    self._retry_at = time.monotonic() + delay
                self._resolved_cv.notify_all()
            if self._closing and not self._buffer:
                break
        with self._resolved_cv:
            # Whatever is left (the store stayed down) is counted, not kept.
            left = self._buffer
            self._buffer = []
            self._dropped += sum(e.rows for e in left)
            self._pending_rows = 0
            self._resolved += len(left)
            self._resolved_cv.notify_all()

    def _store(self, entries: list[_Entry]) -> list[_Entry]:
        """Write the entries, one file per model version; those the store refused, in order."""
        by_version: dict[int | None, list[_Entry]] = {}
        for entry in entries:
            by_version.setdefault(entry.model_version, []).append(entry)
        settled: set[int | None] = set()
        for version, group in by_version.items():
            try:
                table = build_table(group, self.input_names)
            except Exception as exc:  # a malformed request: drop its group, keep the rest
                self._count_dropped(sum(e.rows for e in group))
                self._warn(f"prediction log rows of {self.model_name!r} could not be built: {exc}")
                settled.add(version)
                continue
            try:
                self._write(version, table)
            except Exception as exc:
                self._warn(f"prediction log of {self.model_name!r} could not be stored: {exc}")
                return [e for e in entries if e.model_version not in settled]
            settled.add(version)
        return []

    def _write(self, version: int | None, table: pa.Table) -> None:
        import pyarrow.compute as pc  # type: ignore[import-untyped]
        import pyarrow.parquet as pq

        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression=_COMPRESSION)
        data = buffer.getvalue()
        bounds = pc.min_max(table.column("timestamp")).as_py()
        digest, size = self.client.blob_store.put(io.BytesIO(data))
        self.client.store.add_prediction_log_batch(
            self.model_name,
            version,
            int(bounds["min"]),
            int(bounds["max"]),
            table.num_rows,
            digest,
            size,
        )
        self._logged += table.num_rows
        self._files += 1

    def _warn(self, message: str) -> None:
        now = time.monotonic()
        if now - self._last_warning >= _WARN_EVERY_S:
            self._last_warning = now
            log.warning("%s (%d rows dropped so far)", message, self._dropped)
