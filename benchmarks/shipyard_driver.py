"""The Shipyard side of the benchmarks, run in a fresh process with the project's python.

Usage: ``python -m benchmarks.shipyard_driver COMMAND JSON_ARGS``; prints one JSON
object. It mirrors ``mlflow_driver.py`` call for call.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from typing import Any

import sqlalchemy as sa

from benchmarks import synthetic
from shipyard.entities import Metric, RunStatus
from shipyard.store.rest.store import RestStore
from shipyard.store.sql import tables as t
from shipyard.store.sql.store import SqlStore

Args = dict[str, Any]
HISTORY_BATCH = 10_000  # the most points one log_batch takes (validation.MAX_BATCH_METRICS)


def _experiment(store: RestStore, name: str) -> str:
    from shipyard.errors import NotFoundError

    try:
        return store.get_experiment_by_name(name).id
    except NotFoundError:
        return store.create_experiment(name).id


def ingest(args: Args) -> dict[str, Any]:
    """Points per second: ``log_batch`` of ``batch`` points, and the fluent API end to end."""
    import shipyard as sy

    store = RestStore(args["uri"])
    experiment_id = _experiment(store, "bench-ingest")
    points, batch, keys = args["points"], args["batch"], args["keys"]
    warmup = store.create_run(experiment_id).id
    store.log_batch(warmup, metrics=[Metric("k0", 0.0, 0)])
    batch_rates, fluent_rates = [], []
    for _ in range(args["repeat"]):
        run_id = store.create_run(experiment_id).id
        now = int(time.time() * 1000)
        metrics = [Metric(f"k{i % keys}", float(i) * 0.001, i // keys, now) for i in range(points)]
        started = time.perf_counter()
        for offset in range(0, points, batch):
            store.log_batch(run_id, metrics=metrics[offset : offset + batch])
        elapsed = time.perf_counter() - started
        store.update_run(run_id, status=RunStatus.FINISHED)
        _check_points(store, run_id, points // keys)
        batch_rates.append(points / elapsed)

    os.environ["SHIPYARD_URI"] = args["uri"]
    sy.set_experiment("bench-ingest")
    for _ in range(args["repeat"]):
        # The timer covers the whole loop and the flush at run end: every point stored.
        run = sy.start_run(capture=False)
        started = time.perf_counter()
        with run:
            for i in range(points):
                run.log_metric(f"k{i % keys}", float(i) * 0.001, step=i // keys)
        elapsed = time.perf_counter() - started
        _check_points(store, run.id, points // keys)
        fluent_rates.append(points / elapsed)
    return {"points_per_s": batch_rates, "fluent_points_per_s": fluent_rates}


def _check_points(store: RestStore, run_id: str, expected: int) -> None:
    stored = len(store.get_metric_history(run_id, "k0"))
    if stored != expected:
        raise SystemExit(f"Shipyard stored {stored} points of k0, expected {expected}")


def log_calls(args: Args) -> dict[str, Any]:
    """The cost of one ``run.log_metric`` call in a training loop, and the drain at run end."""
    import shipyard as sy

    os.environ["SHIPYARD_URI"] = args["uri"]
    sy.set_experiment("bench-log-calls")
    store = RestStore(args["uri"])
    result: dict[str, Any] = {"call_us": [], "drain_s": []}
    calls = args["async_calls"]
    for _ in range(args["repeat"]):
        run = sy.start_run(capture=False)
        with run:
            started = time.perf_counter()
            for i in range(calls):
                run.log_metric("loss", 1.0 / (i + 1), step=i)
            loop = time.perf_counter() - started
        drained = time.perf_counter() - started
        result["call_us"].append(loop / calls * 1e6)
        result["drain_s"].append(drained)
        stored = len(store.get_metric_history(run.id, "loss"))
        if stored != calls:
            raise SystemExit(f"Shipyard stored {stored} of {calls} points")
    return result


def populate_search(args: Args) -> dict[str, Any]:
    """Bulk-insert synthetic runs into the tables Shipyard's migrations created."""
    started = time.perf_counter()
    store = SqlStore(f"sqlite:///{args['db']}")  # runs the migrations
    experiment_id = store.create_experiment("bench-search").id
    store.close()
    runs, params, latest = [], [], []
    for run in synthetic.runs(args["runs"]):
        runs.append(
            (run.run_id, experiment_id, run.name, "FINISHED", run.start_time, run.end_time,
             "active", None, "bench")
        )  # fmt: skip
        params += [(run.run_id, k, v) for k, v in run.params.items()]
        latest += [(run.run_id, k, v, 0, 0, run.end_time) for k, v in run.metrics.items()]
    point = ("run_id", "key", "value", "is_nan", "step", "timestamp")
    run_columns = ("id", "experiment_id", "name", "status", "start_time", "end_time",
                   "lifecycle_stage", "parent_run_id", "user")  # fmt: skip
    conn = sqlite3.connect(args["db"])
    with conn:
        _insert(conn, t.runs, run_columns, runs)
        _insert(conn, t.params, ("run_id", "key", "value"), params)
        _insert(conn, t.latest_metrics, point, latest)
        _insert(conn, t.metrics, point, latest)  # the same points as one-point histories
    conn.execute("ANALYZE")
    conn.close()
    return {"experiment_id": experiment_id, "seconds": time.perf_counter() - started}


def _insert(
    conn: sqlite3.Connection, table: sa.Table, names: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    missing = set(names) - set(table.columns.keys())
    if missing:
        raise SystemExit(f"table {table.name} has no columns {sorted(missing)}: update the driver")
    quoted = ", ".join(f'"{name}"' for name in names)
    marks = ", ".join("?" * len(names))
    conn.executemany(f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks})', rows)


def search(args: Args) -> dict[str, Any]:
    """First page of a filtered, ordered search through the server."""
    store = RestStore(args["uri"], timeout=600)
    timings: list[float] = []
    names: list[str] = []
    for attempt in range(args["repeat"] + 1):
        started = time.perf_counter()
        page = store.search_runs(
            [args["experiment_id"]],
            filter_string=synthetic.SEARCH_FILTER,
            order_by=[synthetic.SEARCH_ORDER_BY],
            max_results=synthetic.SEARCH_PAGE,
        )
        if attempt:  # the first call only warms the server up
            timings.append(time.perf_counter() - started)
        names = [run.name for run in page.items]
    return {"seconds": timings, "names": names}


def populate_history(args: Args) -> dict[str, Any]:
    """One run whose metric ``loss`` has ``points`` points, through ``SqlStore.log_batch``."""
    started = time.perf_counter()
    store = SqlStore(f"sqlite:///{args['db']}")
    experiment_id = store.create_experiment("bench-history").id
    run_id = store.create_run(experiment_id, name="history").id
    batch: list[Metric] = []
    for step, value, timestamp in synthetic.history(args["points"]):
        batch.append(Metric(synthetic.HISTORY_KEY, value, step, timestamp))
        if len(batch) == HISTORY_BATCH:
            store.log_batch(run_id, metrics=batch)
            batch = []
    if batch:
        store.log_batch(run_id, metrics=batch)
    store.close()
    return {"run_id": run_id, "seconds": time.perf_counter() - started}


def history(args: Args) -> dict[str, Any]:
    """A metric's full history, and the server-side downsampled one for a chart."""
    store = RestStore(args["uri"], timeout=600)
    store.get_run(args["run_id"])  # warm the server up
    result: dict[str, Any] = {"full_s": [], "sampled_s": [], "full_points": 0, "sampled_points": 0}
    for _ in range(args["repeat_full"]):
        started = time.perf_counter()
        points = store.get_metric_history(args["run_id"], synthetic.HISTORY_KEY)
        result["full_s"].append(time.perf_counter() - started)
        result["full_points"] = len(points)
    for _ in range(args["repeat"]):
        started = time.perf_counter()
        sampled = store.get_metric_history(
            args["run_id"], synthetic.HISTORY_KEY, max_points=args["max_points"]
        )
        result["sampled_s"].append(time.perf_counter() - started)
        result["sampled_points"] = len(sampled)
    return result


def version(args: Args) -> dict[str, Any]:
    from shipyard import __version__

    return {"version": __version__}


COMMANDS = {
    "ingest": ingest,
    "log-calls": log_calls,
    "populate-search": populate_search,
    "search": search,
    "populate-history": populate_history,
    "history": history,
    "version": version,
}


def main() -> None:
    command, raw = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "{}"
    print(json.dumps(COMMANDS[command](json.loads(raw))))


if __name__ == "__main__":
    main()
