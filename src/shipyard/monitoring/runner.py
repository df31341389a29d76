"""The scheduler: runs due monitors, one report each, forever or once.

``shipyard monitor run`` runs it in the foreground; ``shipyard server --monitors``
in a thread of the tracking server (:func:`attach_to_app`), whose ``/metrics``
then also serves the monitors' gauges (:mod:`shipyard.monitoring.metrics`).

Several schedulers may share one store: each due run is claimed
(``claim_monitor_run``) and exactly one scheduler gets it. A monitor whose runs
were missed (the scheduler was down) runs once, then keeps its rhythm: its next
run is the first of its slots after now, with no burst of catch-up runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from shipyard.entities import now_ms
from shipyard.errors import ShipyardError
from shipyard.monitoring.monitors import MonitorRun, run_monitor_record

if TYPE_CHECKING:
    from fastapi import FastAPI

    from shipyard.store.base import BlobStore, Store
    from shipyard.store.monitoring_base import MonitorRecord
    from shipyard.tracking.client import Client

__all__ = ["DEFAULT_POLL_SECONDS", "MonitorRunner", "attach_to_app", "next_run_after"]

log = logging.getLogger("shipyard.monitoring")

DEFAULT_POLL_SECONDS = 10.0


def next_run_after(monitor: MonitorRecord, now: int) -> int:
    """The first of the monitor's slots (``next_run_at + k * every``) after ``now``."""
    every = monitor.every_seconds * 1000
    missed = max(0, (now - monitor.next_run_at) // every)
    return monitor.next_run_at + (missed + 1) * every


class MonitorRunner:
    """Runs the store's due monitors: :meth:`run_once` for one pass, :meth:`run_forever`
    until stopped, :meth:`start` in a thread.

    ``poll_seconds`` bounds how long a monitor added elsewhere (another process)
    waits to be seen; ``on_run`` is called after each monitor run.
    """

    def __init__(
        self,
        client: Client,
        *,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        webhook_timeout: float = 5.0,
        webhook_retries: int = 3,
        on_run: Callable[[MonitorRun], None] | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.client = client
        self.poll_seconds = poll_seconds
        self.webhook_timeout = webhook_timeout
        self.webhook_retries = webhook_retries
        self.on_run = on_run
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0

    def run_once(self, now: int | None = None) -> list[MonitorRun]:
        """Run every monitor due at ``now`` (default: the clock) that this runner claims."""
        store = self.client.store
        at = self.clock() if now is None else now
        done = []
        for monitor in store.due_monitors(at):
            if self._stop.is_set():
                break
            if not store.claim_monitor_run(
                monitor.id, monitor.next_run_at, next_run_after(monitor, at)
            ):
                continue  # another scheduler took it
            run = run_monitor_record(
                self.client,
                monitor,
                webhook_timeout=self.webhook_timeout,
                webhook_retries=self.webhook_retries,
                stop=self._stop,
            )
            self.runs += 1
            done.append(run)
            if self.on_run is not None:
                self.on_run(run)
        return done

    def _wait_seconds(self) -> float:
        """Until the next due run, at most ``poll_seconds``."""
        try:
            upcoming = [m.next_run_at for m in self.client.store.list_monitors(enabled=True)]
        except ShipyardError:
            return self.poll_seconds
        if not upcoming:
            return self.poll_seconds
        return min(self.poll_seconds, max(0.0, (min(upcoming) - self.clock()) / 1000))

    def run_forever(self) -> None:
        """Run due monitors until :meth:`stop`; a failing pass is logged and retried."""
        while not self._stop.is_set():
            try:
                self.run_once()
                wait = self._wait_seconds()
            except Exception:
                log.exception(
                    "monitor scheduler pass failed; retrying in %.0f s", self.poll_seconds
                )
                wait = self.poll_seconds
            self._stop.wait(max(wait, 0.01))

    def start(self) -> threading.Thread:
        self._stop.clear()
        thread = threading.Thread(target=self.run_forever, name="shipyard-monitors", daemon=True)
        thread.start()
        self._thread = thread
        return thread

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the report in progress (a webhook retry wait ends at once)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()


def attach_to_app(
    app: FastAPI,
    store: Store,
    blob_store: BlobStore,
    *,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
) -> MonitorRunner:
    """Run the scheduler while ``app`` runs, and serve the monitor gauges on its /metrics.

    The app's lifespan is wrapped: the thread starts once the app has started and
    stops before the app closes its stores.
    """
    from shipyard.monitoring.metrics import MonitorCollector
    from shipyard.tracking.client import Client

    if not log.handlers and not logging.getLogger().handlers:
        # uvicorn configures its own loggers only: alerts would otherwise go unseen.
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    client = Client(store=store, blob_store=blob_store)
    runner = MonitorRunner(client, poll_seconds=poll_seconds)
    registry = getattr(getattr(app.state, "metrics", None), "registry", None)
    if registry is not None:
        registry.register(MonitorCollector(store))
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(started: Any) -> AsyncIterator[Any]:
        async with inner(started) as state:
            runner.start()
            try:
                yield state
            finally:
                await asyncio.to_thread(runner.stop)

    app.router.lifespan_context = lifespan
    app.state.monitor_runner = runner
    return runner
