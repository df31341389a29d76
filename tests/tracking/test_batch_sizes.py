"""The background batcher sends a deep queue in large batches, in order, each once."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from shipyard.errors import ServiceUnavailableError
from shipyard.store.sql.store import SqlStore
from shipyard.tracking.batching import MetricBatcher


class _WatchedStore(SqlStore):
    """A real store that records each metric batch it is sent, and can hold the first one
    back (so that points queue up behind it) or fail once after storing a batch."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.calls: list[tuple[str | None, list[str], list[int]]] = []
        self.first_batch_sent = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.lose_answer_of_call: int | None = None

    def log_metric_columns(
        self,
        run_id: str,
        keys: Sequence[str],
        values: Sequence[float],
        steps: Sequence[int],
        timestamps: Sequence[int],
        idempotency_key: str | None = None,
    ) -> None:
        self.calls.append((idempotency_key, list(keys), list(steps)))
        self.first_batch_sent.set()
        self.release.wait(30)
        super().log_metric_columns(run_id, keys, values, steps, timestamps, idempotency_key)
        if self.lose_answer_of_call == len(self.calls):
            raise ServiceUnavailableError("the answer was lost on the way back")


def _store(tmp_path: Path) -> tuple[_WatchedStore, str]:
    store = _WatchedStore(f"sqlite:///{tmp_path / 'shipyard.db'}")
    run = store.create_run(store.create_experiment("batches").id)
    return store, run.id


def test_a_deep_queue_goes_in_batches_up_to_the_maximum(tmp_path: Path) -> None:
    store, run_id = _store(tmp_path)
    batcher = MetricBatcher(store, run_id, batch_size=100, max_batch_size=1000, interval_s=0.05)
    store.release.clear()
    batcher.add(("m", 0.0, 0, 1))
    assert store.first_batch_sent.wait(30)
    points = 2500  # queued while the first batch is held back
    for step in range(1, points + 1):
        batcher.add(("m" if step % 2 else "n", float(step), step, 1))
    store.release.set()
    assert batcher.close() == 0

    sizes = [len(keys) for _, keys, _ in store.calls]
    assert sizes == [1, 1000, 1000, 500]
    assert [step for _, _, steps in store.calls for step in steps] == list(range(points + 1))
    assert len({key for key, _, _ in store.calls}) == len(store.calls)  # one key per batch
    history = store.get_metric_history(run_id, "m")
    assert [p.step for p in history] == [0, *range(1, points + 1, 2)]
    assert batcher.points_sent == points + 1


def test_batches_never_exceed_the_store_limit_by_default(tmp_path: Path) -> None:
    store, run_id = _store(tmp_path)
    batcher = MetricBatcher(store, run_id, interval_s=0.05)
    store.release.clear()
    batcher.add(("m", 0.0, 0, 1))
    assert store.first_batch_sent.wait(30)
    for step in range(1, 25_001):
        batcher.add(("m", float(step), step, 1))
    store.release.set()
    assert batcher.close() == 0
    assert [len(keys) for _, keys, _ in store.calls] == [1, 10_000, 10_000, 5_000]
    assert len(store.get_metric_history(run_id, "m")) == 25_001


def test_a_large_batch_retried_after_a_lost_answer_is_stored_once(tmp_path: Path) -> None:
    store, run_id = _store(tmp_path)
    batcher = MetricBatcher(store, run_id, batch_size=10, interval_s=0.05, retry_seconds=5)
    store.release.clear()
    store.lose_answer_of_call = 2  # the big batch is stored, but its answer is lost
    batcher.add(("m", 0.0, 0, 1))
    assert store.first_batch_sent.wait(30)
    for step in range(1, 3001):
        batcher.add(("m", float(step), step, 1))
    store.release.set()
    assert batcher.close() == 0

    keys = [key for key, _, _ in store.calls]
    assert [len(batch) for _, batch, _ in store.calls] == [1, 3000, 3000]
    assert keys[1] == keys[2] and keys[0] != keys[1]  # the retry reused its batch's key
    assert [p.step for p in store.get_metric_history(run_id, "m")] == list(range(3001))
