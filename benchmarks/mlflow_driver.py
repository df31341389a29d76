# mypy: disable-error-code="import-not-found"
"""The MLflow side of the benchmarks, run with the python of MLflow's own venv.

Usage: ``python mlflow_driver.py COMMAND JSON_ARGS``; prints one JSON object.
Only MLflow, its dependencies and the standard library are used here (plus
``synthetic.py`` beside this file), so the figures are MLflow's own.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthetic

Args = dict[str, Any]


def _client(uri: str) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri)


def _experiment(client: Any, name: str) -> str:
    found = client.get_experiment_by_name(name)
    return str(found.experiment_id if found else client.create_experiment(name))


def ingest(args: Args) -> dict[str, Any]:
    """Points per second through ``log_batch`` with ``batch`` metrics per call."""
    from mlflow.entities import Metric

    client = _client(args["uri"])
    experiment_id = _experiment(client, "bench-ingest")
    points, batch, keys = args["points"], args["batch"], args["keys"]
    warmup = client.create_run(experiment_id).info.run_id
    client.log_batch(warmup, metrics=[Metric("k0", 0.0, int(time.time() * 1000), 0)])
    rates = []
    for _ in range(args["repeat"]):
        run_id = client.create_run(experiment_id).info.run_id
        now = int(time.time() * 1000)
        metrics = [Metric(f"k{i % keys}", float(i) * 0.001, now, i // keys) for i in range(points)]
        started = time.perf_counter()
        for offset in range(0, points, batch):
            client.log_batch(run_id, metrics=metrics[offset : offset + batch])
        elapsed = time.perf_counter() - started
        client.set_terminated(run_id)
        stored = client.get_metric_history(run_id, "k0")
        if len(stored) != points // keys:
            raise SystemExit(f"MLflow stored {len(stored)} points of k0, expected {points // keys}")
        rates.append(points / elapsed)
    return {"points_per_s": rates}


def log_calls(args: Args) -> dict[str, Any]:
    """The cost of one fluent ``mlflow.log_metric`` call in a loop, sync and async."""
    import mlflow

    mlflow.set_tracking_uri(args["uri"])
    mlflow.set_experiment("bench-log-calls")
    result: dict[str, Any] = {"sync_us": [], "async_us": [], "async_drain_s": []}
    for _ in range(args["repeat"]):
        with mlflow.start_run():
            calls = args["sync_calls"]
            started = time.perf_counter()
            for i in range(calls):
                mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
            result["sync_us"].append((time.perf_counter() - started) / calls * 1e6)
        with mlflow.start_run() as run:
            calls = args["async_calls"]
            started = time.perf_counter()
            for i in range(calls):
                mlflow.log_metric("loss", 1.0 / (i + 1), step=i, synchronous=False)
            loop = time.perf_counter() - started
            mlflow.flush_async_logging()
            drained = time.perf_counter() - started
            result["async_us"].append(loop / calls * 1e6)
            result["async_drain_s"].append(drained)
        stored = mlflow.MlflowClient().get_metric_history(run.info.run_id, "loss")
        if len(stored) != calls:
            raise SystemExit(f"MLflow async logging stored {len(stored)} of {calls} points")
    return result


def _create_store(db: str, artifacts: str) -> Any:
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    # Creating the store runs MLflow's own migrations: the tables are exactly MLflow's.
    return SqlAlchemyStore(f"sqlite:///{db}", artifacts)


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def populate_search(args: Args) -> dict[str, Any]:
    """Bulk-insert synthetic runs into the tables MLflow's migrations created."""
    started = time.perf_counter()
    store = _create_store(args["db"], args["artifacts"])
    experiment_id = store.create_experiment("bench-search")
    store.engine.dispose()
    conn = sqlite3.connect(args["db"])
    run_columns = _columns(conn, "runs")
    has_deleted_time = "deleted_time" in run_columns
    runs, params, latest, history, tags = [], [], [], [], []
    for run in synthetic.runs(args["runs"]):
        row = [
            run.run_id,
            run.name,
            "LOCAL",
            "bench",
            "",
            "bench",
            "FINISHED",
            run.start_time,
            run.end_time,
            "",
            "active",
            f"{args['artifacts']}/{run.run_id}",
            int(experiment_id),
        ]
        if has_deleted_time:
            row.append(None)
        runs.append(tuple(row))
        params += [(k, v, run.run_id) for k, v in run.params.items()]
        tags += [("mlflow.runName", run.name, run.run_id), ("mlflow.user", "bench", run.run_id)]
        for key, value in run.metrics.items():
            latest.append((key, value, run.end_time, 0, 0, run.run_id))
            history.append((key, value, run.end_time, run.run_id, 0, 0))
    names = "run_uuid, name, source_type, source_name, entry_point_name, user_id, status, "
    names += "start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id"
    if has_deleted_time:
        names += ", deleted_time"
    with conn:
        conn.executemany(
            f"INSERT INTO runs ({names}) VALUES ({', '.join('?' * len(runs[0]))})", runs
        )
        conn.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", params)
        conn.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", tags)
        conn.executemany(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            latest,
        )
        conn.executemany(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            history,
        )
    conn.execute("ANALYZE")
    conn.close()
    return {"experiment_id": experiment_id, "seconds": time.perf_counter() - started}


def search(args: Args) -> dict[str, Any]:
    """First page of a filtered, ordered search through the server."""
    client = _client(args["uri"])
    timings, names = [], []
    for attempt in range(args["repeat"] + 1):
        started = time.perf_counter()
        page = client.search_runs(
            [args["experiment_id"]],
            filter_string=synthetic.SEARCH_FILTER,
            order_by=[synthetic.SEARCH_ORDER_BY],
            max_results=synthetic.SEARCH_PAGE,
        )
        if attempt:  # the first call only warms the server up
            timings.append(time.perf_counter() - started)
        names = [run.info.run_name for run in page]
    return {"seconds": timings, "names": names}


def populate_history(args: Args) -> dict[str, Any]:
    """One run whose metric ``loss`` has ``points`` points, bulk-inserted into MLflow's tables."""
    started = time.perf_counter()
    store = _create_store(args["db"], args["artifacts"])
    experiment_id = store.create_experiment("bench-history")
    run = store.create_run(experiment_id, "bench", synthetic.BASE_TIME_MS, [], "history")
    run_id = run.info.run_id
    store.engine.dispose()
    conn = sqlite3.connect(args["db"])
    key = synthetic.HISTORY_KEY
    last: tuple[int, float, int] | None = None
    with conn:
        rows = []
        for step, value, timestamp in synthetic.history(args["points"]):
            rows.append((key, value, timestamp, run_id, step, 0))
            last = (step, value, timestamp)
            if len(rows) == 100_000:
                conn.executemany(_INSERT_METRIC, rows)
                rows = []
        if rows:
            conn.executemany(_INSERT_METRIC, rows)
        assert last is not None
        conn.execute(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid)"
            " VALUES (?, ?, ?, ?, 0, ?)",
            (key, last[1], last[2], last[0], run_id),
        )
    conn.close()
    return {"run_id": run_id, "seconds": time.perf_counter() - started}


_INSERT_METRIC = (
    "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, ?)"
)


def history(args: Args) -> dict[str, Any]:
    """A metric's full history, and the server-side sampled one for a chart."""
    import requests

    client = _client(args["uri"])
    result: dict[str, Any] = {"full_s": [], "sampled_s": [], "full_points": 0, "sampled_points": 0}
    client.get_run(args["run_id"])  # warm the server up
    for _ in range(args["repeat_full"]):
        started = time.perf_counter()
        points = client.get_metric_history(args["run_id"], synthetic.HISTORY_KEY)
        result["full_s"].append(time.perf_counter() - started)
        result["full_points"] = len(points)
    session = requests.Session()
    url = args["uri"] + "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval"
    query = {
        "run_ids": args["run_id"],
        "metric_key": synthetic.HISTORY_KEY,
        "max_results": args["max_points"],
    }
    for _ in range(args["repeat"]):
        started = time.perf_counter()
        response = session.get(url, params=query, timeout=600)
        response.raise_for_status()
        sampled = response.json().get("metrics", [])
        result["sampled_s"].append(time.perf_counter() - started)
        result["sampled_points"] = len(sampled)
    return result


def version(args: Args) -> dict[str, Any]:
    import mlflow

    return {"version": mlflow.__version__}


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
