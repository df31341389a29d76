"""Adaptive micro-batching: concurrent requests share one model call.

Requests queue on the event loop; a batch takes the queued requests,
concatenates their prepared inputs along axis 0, runs the model once in the
model's own thread and hands each request back exactly its own rows, in order.
When a batch starts:

- the model is idle and nothing else is on the way (no other request being
  read or prepared for this model): the call starts at once, so a lone client
  pays no batching delay;
- other requests on the way: it waits for them, up to ``max_latency_ms``
  after the oldest queued request arrived, or until ``max_batch_size`` rows;
- while the model is busy, new requests queue and form the next batch.

When a shared call fails, each request of the batch is run alone, so one
request's bad rows fail that request only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from queue import SimpleQueue
from typing import Any

import numpy as np

from shipyard.errors import ModelRefusedInputError, ShipyardError
from shipyard.models.predictor import Predictor
from shipyard.serving.config import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_LATENCY_MS

__all__ = [
    "DEFAULT_MAX_BATCH_SIZE",
    "DEFAULT_MAX_LATENCY_MS",
    "BatchResult",
    "Batcher",
    "ModelRefusedInput",
    "row_count",
]

log = logging.getLogger("shipyard.serving")

Array = np.ndarray[Any, Any]
BatchObserver = Callable[[int, int, float], None]


# Kept under the serving name callers use; every error class lives in shipyard.errors.
ModelRefusedInput = ModelRefusedInputError


def row_count(prepared: Any) -> int:
    """Rows of a prepared input (a numpy array or a DataFrame)."""
    return len(prepared)


@dataclass(frozen=True, slots=True)
class BatchResult:
    """One request's rows of the outputs it asked for, and how its call went."""

    predictions: Array | None
    probabilities: Array | None
    batch_requests: int
    inference_seconds: float


@dataclass(slots=True)
class _Item:
    inputs: Any
    rows: int
    predict: bool
    proba: bool
    future: asyncio.Future[BatchResult]
    arrived: float


def _concat(parts: list[Any]) -> Any:
    if isinstance(parts[0], np.ndarray):
        return np.concatenate(parts, axis=0)
    import pandas as pd

    return pd.concat(parts, axis=0, ignore_index=True)


def _check_rows(output: Array, rows: int, what: str) -> Array:
    if output.ndim == 0 or output.shape[0] != rows:
        raise RuntimeError(f"the model's {what} has shape {output.shape} for {rows} input rows")
    return output


class Batcher:
    """Runs ``model`` on batches of concurrent requests, in one thread of its own.

    Everything but the model call happens on the event loop: requests queue,
    and a batch is dispatched when a request arrives, when one stops being on
    the way, when the model thread hands a batch back, or when a wait runs out.
    """

    def __init__(
        self,
        model: Predictor,
        *,
        max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
        max_latency_ms: float = DEFAULT_MAX_LATENCY_MS,
        observer: BatchObserver | None = None,
    ) -> None:
        if max_batch_size < 1:
            raise ValueError("max_batch_size must be at least 1")
        self.model = model
        self.max_batch_size = max_batch_size
        self.max_latency = max(0.0, max_latency_ms) / 1000.0
        self._observer = observer
        self._queue: deque[_Item] = deque()
        self._arriving = 0
        self._busy = False
        # uvloop answers call_at with a plain Handle (no when()) once the deadline has
        # passed, so the deadline is kept beside the handle.
        self._timer: asyncio.Handle | None = None
        self._timer_deadline = 0.0
        self._jobs: SimpleQueue[tuple[asyncio.AbstractEventLoop, list[_Item]] | None] = (
            SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self._closing = False
        self._drained: asyncio.Event | None = None

    # -- requests --------------------------------------------------------------------

    @contextlib.contextmanager
    def arriving(self) -> Iterator[None]:
        """Announce a request being read and prepared, so a forming batch waits for it."""
        self._arriving += 1
        try:
            yield
        finally:
            self._arriving -= 1
            if self._queue or self._closing:
                self._dispatch()

    async def predict(
        self, inputs: Any, *, predict: bool = True, proba: bool = False
    ) -> BatchResult:
        """This request's predictions (and/or probabilities), computed in a shared call."""
        loop = asyncio.get_running_loop()
        item = _Item(inputs, row_count(inputs), predict, proba, loop.create_future(), loop.time())
        self._queue.append(item)
        self._dispatch()
        return await item.future

    @property
    def queued(self) -> int:
        return len(self._queue)

    async def close(self) -> None:
        """Answer what is queued and on the way, then stop the model thread."""
        self._closing = True
        if self._busy or self._queue or self._arriving:
            self._drained = asyncio.Event()
            await self._drained.wait()
        if self._thread is not None:
            self._jobs.put(None)  # after the last batch: the thread answers it, then ends
            self._thread = None

    # -- dispatching, on the event loop ------------------------------------------------

    def _take(self, batch: list[_Item], rows: int) -> int:
        while self._queue and (not batch or rows + self._queue[0].rows <= self.max_batch_size):
            item = self._queue.popleft()
            if item.future.done():  # the client went away
                continue
            batch.append(item)
            rows += item.rows
        return rows

    def _dispatch(self) -> None:
        if self._busy:
            return
        if not self._queue:
            if self._drained is not None and not self._arriving:
                self._drained.set()
            return
        loop = asyncio.get_running_loop()
        rows = sum(item.rows for item in self._queue)
        if self._arriving and rows < self.max_batch_size:
            # Others are on the way: wait for them, up to max_latency after the oldest.
            deadline = self._queue[0].arrived + self.max_latency
            if loop.time() < deadline:
                if self._timer is None or self._timer_deadline > deadline:
                    if self._timer is not None:
                        self._timer.cancel()
                    self._timer = loop.call_at(deadline, self._on_timer)
                    self._timer_deadline = deadline
                return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch: list[_Item] = []
        self._take(batch, 0)
        if not batch:
            self._dispatch()
            return
        self._busy = True
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="shipyard-model", daemon=True)
            self._thread.start()
        self._jobs.put((loop, batch))

    def _on_timer(self) -> None:
        self._timer = None
        self._dispatch()

    def _deliver(self, batch: list[_Item], results: list[BatchResult | BaseException]) -> None:
        self._busy = False
        for item, result in zip(batch, results, strict=True):
            if item.future.done():
                continue
            if isinstance(result, BaseException):
                item.future.set_exception(result)
            else:
                item.future.set_result(result)
        self._dispatch()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            loop, batch = job
            try:
                results = self._compute(batch)
            except BaseException as exc:  # a bug in the batching itself: fail the batch
                log.exception("a model call failed outside the model")
                results = [exc] * len(batch)
            try:
                loop.call_soon_threadsafe(self._deliver, batch, results)
            except RuntimeError:  # the loop closed: nobody waits for these answers
                return

    # -- in the model thread ---------------------------------------------------------

    def _compute(self, batch: list[_Item]) -> list[BatchResult | BaseException]:
        predict = any(item.predict for item in batch)
        proba = any(item.proba for item in batch)
        started = time.perf_counter()
        if len(batch) == 1:
            try:
                return [self._call_one(batch[0], started)]
            except Exception as exc:
                return [self._refusal(exc)]
        try:
            total = sum(item.rows for item in batch)
            inputs = _concat([item.inputs for item in batch])
            predictions = self._call(inputs, total, predict, proba)
        except Exception:
            log.info("a batch of %d requests failed; running each alone", len(batch))
            results: list[BatchResult | BaseException] = []
            for item in batch:
                try:
                    results.append(self._call_one(item, time.perf_counter()))
                except Exception as exc:
                    results.append(self._refusal(exc))
            return results
        seconds = time.perf_counter() - started
        if self._observer is not None:
            self._observer(len(batch), total, seconds)
        out: list[BatchResult | BaseException] = []
        start = 0
        for item in batch:
            end = start + item.rows
            pred, prob = predictions
            out.append(
                BatchResult(
                    pred[start:end] if pred is not None and item.predict else None,
                    prob[start:end] if prob is not None and item.proba else None,
                    len(batch),
                    seconds,
                )
            )
            start = end
        return out

    def _call(
        self, inputs: Any, rows: int, predict: bool, proba: bool
    ) -> tuple[Array | None, Array | None]:
        pred = (
            _check_rows(np.asarray(self.model.predict_prepared(inputs)), rows, "prediction")
            if predict
            else None
        )
        prob = (
            _check_rows(
                np.asarray(self.model.predict_proba_prepared(inputs)), rows, "probabilities"
            )
            if proba
            else None
        )
        return pred, prob

    def _call_one(self, item: _Item, started: float) -> BatchResult:
        pred, prob = self._call(item.inputs, item.rows, item.predict, item.proba)
        seconds = time.perf_counter() - started
        if self._observer is not None:
            self._observer(1, item.rows, seconds)
        return BatchResult(pred, prob, 1, seconds)

    @staticmethod
    def _refusal(exc: Exception) -> BaseException:
        if isinstance(exc, ShipyardError):
            return exc
        if isinstance(exc, ValueError | TypeError):
            return ModelRefusedInput(f"the model refused the input: {exc}")
        return exc
