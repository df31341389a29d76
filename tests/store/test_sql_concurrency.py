"""Several processes (and threads) writing one SQLite file at once lose nothing."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path
from typing import Any

from shipyard.entities import Metric, Param, Tag
from shipyard.store.sql.store import SqlStore

PROCESSES = 4
BATCHES = 20
POINTS = 100


def _open_and_create(url: str, index: int, barrier: Any) -> None:
    barrier.wait()  # every process opens the fresh file (and migrates it) at once
    with SqlStore(url) as store:
        store.create_experiment(f"process-{index}")


def _log(url: str, run_id: str, index: int, barrier: Any) -> None:
    with SqlStore(url) as store:
        barrier.wait()
        for batch in range(BATCHES):
            first = (index * BATCHES + batch) * POINTS
            store.log_batch(
                run_id,
                metrics=[
                    *(
                        Metric("shared", float(s), step=s, timestamp=s)
                        for s in range(first, first + POINTS)
                    ),
                    Metric(f"own-{index}", float(batch), step=batch),
                ],
                params=[Param(f"p{index}", str(index)), Param("same", "for everyone")],
                tags=[Tag(f"t{index}", str(batch))],
            )


def _run_processes(target: Any, args: list[tuple[Any, ...]]) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(args))
    processes = [context.Process(target=target, args=(*a, barrier)) for a in args]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0] * len(processes)


def test_processes_opening_a_fresh_file_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    _run_processes(_open_and_create, [(url, i) for i in range(PROCESSES)])
    with SqlStore(url) as store:
        names = {e.name for e in store.list_experiments().items}
    assert names == {f"process-{i}" for i in range(PROCESSES)}


def test_processes_logging_to_one_file_at_once_lose_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    with SqlStore(url) as store:
        run = store.create_run(store.create_experiment("concurrent").id)

    _run_processes(_log, [(url, run.id, i) for i in range(PROCESSES)])

    with SqlStore(url) as store:
        shared = store.get_metric_history(run.id, "shared")
        fetched = store.get_run(run.id)
        own = {i: store.get_metric_history(run.id, f"own-{i}") for i in range(PROCESSES)}
    total = PROCESSES * BATCHES * POINTS
    assert [m.step for m in shared] == list(range(total))
    assert fetched.metrics["shared"].step == total - 1
    assert all([m.step for m in points] == list(range(BATCHES)) for points in own.values())
    assert fetched.params == {"same": "for everyone"} | {f"p{i}": str(i) for i in range(PROCESSES)}
    assert fetched.tags == {f"t{i}": str(BATCHES - 1) for i in range(PROCESSES)}


def test_threads_sharing_one_store(tmp_path: Path) -> None:
    threads_count = 8
    with SqlStore(f"sqlite:///{tmp_path / 'threads.db'}") as store:
        run = store.create_run(store.create_experiment("threads").id)
        errors: list[BaseException] = []

        def log(index: int) -> None:
            try:
                for step in range(25):
                    store.log_batch(run.id, metrics=[Metric(f"m{index}", 1.0, step=step)])
                    store.get_run(run.id)
            except BaseException as exc:  # collected for the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=log, args=(i,)) for i in range(threads_count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert errors == []
        for index in range(threads_count):
            assert len(store.get_metric_history(run.id, f"m{index}")) == 25
