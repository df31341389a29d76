"""``make bench``: Shipyard against MLflow (tracking), DVC (data), Evidently (drift).

    python -m benchmarks.run                  # every suite, full sizes
    python -m benchmarks.run --quick          # a smoke run (a few minutes)
    python -m benchmarks.run --suite data     # only Shipyard vs DVC
    python -m benchmarks.run --suite drift    # only Shipyard vs Evidently
    python -m benchmarks.run --suite serving  # only shipyard serve vs mlflow models serve

Each tool runs its own server (SQLite backend, one worker, a free loopback
port) and is driven by its own Python client in a fresh process. See
benchmarks/README.md for what is measured and how each store is populated.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmarks import data_bench, drift_bench, drivers, serving_bench
from benchmarks.environment import WORK, ensure_mlflow, mlflow_executable
from benchmarks.report import Row, print_table, write_json
from benchmarks.servers import free_port, serve

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
DATA_RESULTS = RESULTS.with_name("data-latest.json")
DRIFT_RESULTS = RESULTS.with_name("drift-latest.json")
SERVING_RESULTS = RESULTS.with_name("serving-latest.json")


@dataclass(frozen=True)
class Sizes:
    ingest_points: int
    sync_calls: int
    async_calls: int
    search_runs: tuple[int, ...]
    history_points: int
    repeat: int
    repeat_slow: int  # for the measurements that take many seconds each
    ingest_batch: int = 1000
    ingest_keys: int = 10
    max_points: int = 1000


FULL = Sizes(
    ingest_points=50_000,
    sync_calls=500,
    # MLflow's async queue drains about one request per point: 2,000 already take a minute.
    async_calls=2_000,
    search_runs=(10_000, 100_000),
    history_points=1_000_000,
    repeat=5,
    repeat_slow=3,
)
QUICK = Sizes(
    ingest_points=5_000,
    sync_calls=100,
    async_calls=500,
    search_runs=(1_000,),
    history_points=20_000,
    repeat=3,
    repeat_slow=2,
)


class Bench:
    def __init__(self, sizes: Sizes, work: Path, console: Console) -> None:
        self.sizes = sizes
        self.work = work
        self.console = console
        self.rows: list[Row] = []
        self.notes: list[str] = []

    # -- servers ---------------------------------------------------------------
    @contextlib.contextmanager
    def mlflow_server(self, db: Path) -> Iterator[str]:
        port = free_port()
        argv = [
            str(mlflow_executable()), "server",
            "--backend-store-uri", f"sqlite:///{db}",
            "--default-artifact-root", str(self.work / "mlflow-artifacts"),
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        ]  # fmt: skip
        log = self.work / f"mlflow-server-{db.stem}.log"
        with serve(argv, port, "/health", log, env={**os.environ, **drivers.QUIET_ENV}) as url:
            yield url

    @contextlib.contextmanager
    def shipyard_server(self, db: Path) -> Iterator[str]:
        port = free_port()
        argv = [
            sys.executable, "-m", "shipyard", "server",
            "--host", "127.0.0.1", "--port", str(port),
            "--store", f"sqlite:///{db}",
            "--artifacts", str(self.work / "shipyard-artifacts"),
            "--workers", "1",
        ]  # fmt: skip
        log = self.work / f"shipyard-server-{db.stem}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
        with serve(argv, port, "/health", log, env=env) as url:
            yield url

    def step(self, text: str) -> None:
        self.console.print(f"[bold cyan]>[/] {text}")

    # -- ingest ----------------------------------------------------------------
    def ingest(self) -> None:
        s = self.sizes
        args = {
            "points": s.ingest_points,
            "batch": s.ingest_batch,
            "keys": s.ingest_keys,
            "repeat": s.repeat_slow,
        }
        calls = {"sync_calls": s.sync_calls, "async_calls": s.async_calls, "repeat": s.repeat_slow}
        self.step(f"ingest: {s.ingest_points:,} points per repetition, MLflow")
        with self.mlflow_server(self.work / "mlflow-ingest.db") as url:
            ml = drivers.mlflow("ingest", {"uri": url, **args})
            self.step(
                f"log_metric calls: {s.sync_calls:,} sync and {s.async_calls:,} async, MLflow"
            )
            ml_calls = drivers.mlflow("log-calls", {"uri": url, **calls})
        self.step("ingest and log_metric calls, Shipyard")
        with self.shipyard_server(self.work / "shipyard-ingest.db") as url:
            sy = drivers.shipyard("ingest", {"uri": url, **args})
            sy_calls = drivers.shipyard("log-calls", {"uri": url, **calls})
        batch = f"{s.ingest_batch} points per call, {s.ingest_points:,} points"
        self.rows += [
            Row(
                "ingest.log_batch", "ingest, same batching", "points/s", True,
                sy["points_per_s"], ml["points_per_s"],
                f"RestStore.log_batch, {batch}",
                f"MlflowClient.log_batch, {batch}",
            ),
            Row(
                "ingest.best", "ingest, each at its best", "points/s", True,
                sy["fluent_points_per_s"], ml["points_per_s"],
                "run.log_metric per point, batched in the background; timed until all are stored",
                f"MlflowClient.log_batch, {batch}",
            ),
            Row(
                "log_metric.default", "log_metric call in a loop (default)", "µs/call", False,
                sy_calls["call_us"], ml_calls["sync_us"],
                f"run.log_metric (queued, sent in the background), {s.async_calls:,} calls",
                f"mlflow.log_metric (synchronous: one request per call), {s.sync_calls:,} calls",
            ),
            Row(
                "log_metric.async", "log_metric call in a loop (async)", "µs/call", False,
                sy_calls["call_us"], ml_calls["async_us"],
                f"run.log_metric, {s.async_calls:,} calls",
                f"mlflow.log_metric(synchronous=False), {s.async_calls:,} calls",
            ),
            Row(
                "log_metric.drain", f"{s.async_calls:,} async points logged and stored", "s", False,
                sy_calls["drain_s"], ml_calls["async_drain_s"],
                "loop, then the run's end flushes the queue",
                "loop, then mlflow.flush_async_logging()",
            ),
        ]  # fmt: skip

    # -- search ----------------------------------------------------------------
    def search(self, runs: int) -> None:
        s = self.sizes
        self.step(f"search over {runs:,} runs: populating both stores")
        ml_db, sy_db = (
            self.work / f"mlflow-search-{runs}.db",
            self.work / f"shipyard-search-{runs}.db",
        )
        common = {"runs": runs}
        ml_pop = drivers.mlflow(
            "populate-search", {"db": str(ml_db), "artifacts": str(self.work / "ml-art"), **common}
        )
        sy_pop = drivers.shipyard("populate-search", {"db": str(sy_db), **common})
        self.console.print(
            f"  populated in {ml_pop['seconds']:.0f} s (MLflow) and {sy_pop['seconds']:.0f} s "
            "(Shipyard), each by bulk SQL inserts into the tables its own migrations created"
        )
        self.step(f"search over {runs:,} runs: MLflow")
        with self.mlflow_server(ml_db) as url:
            ml = drivers.mlflow(
                "search", {"uri": url, "experiment_id": ml_pop["experiment_id"], "repeat": s.repeat}
            )
        self.step(f"search over {runs:,} runs: Shipyard")
        with self.shipyard_server(sy_db) as url:
            sy = drivers.shipyard(
                "search", {"uri": url, "experiment_id": sy_pop["experiment_id"], "repeat": s.repeat}
            )
        same = ml["names"] == sy["names"]
        if not same:
            self.notes.append(f"search over {runs} runs: the two tools returned different pages")
            self.console.print("[red]  the two tools returned different first pages![/]")
        how = "first page (100) of 'metrics.m1 > 0.5 and params.p1 = 'a'' by metrics.m2 DESC"
        self.rows.append(
            Row(
                f"search.{runs}", f"search, {runs:,} runs", "ms", False,
                sy["seconds"], ml["seconds"],
                f"RestStore.search_runs, {how}", f"MlflowClient.search_runs, {how}",
                scale=1000.0,
                extra={"same_page": same, "populate_s": {"shipyard": sy_pop["seconds"],
                                                         "mlflow": ml_pop["seconds"]}},
            )
        )  # fmt: skip
        for db in (ml_db, sy_db):
            db.unlink(missing_ok=True)

    # -- history ---------------------------------------------------------------
    def history(self) -> None:
        s = self.sizes
        points = s.history_points
        self.step(f"history of {points:,} points: populating both stores")
        ml_db, sy_db = self.work / "mlflow-history.db", self.work / "shipyard-history.db"
        ml_pop = drivers.mlflow(
            "populate-history",
            {"db": str(ml_db), "artifacts": str(self.work / "ml-art"), "points": points},
        )
        sy_pop = drivers.shipyard("populate-history", {"db": str(sy_db), "points": points})
        self.console.print(
            f"  populated in {ml_pop['seconds']:.0f} s (MLflow: bulk SQL into its metrics table) "
            f"and {sy_pop['seconds']:.0f} s (Shipyard: SqlStore.log_batch, 10,000 points a call)"
        )
        args = {"repeat": s.repeat, "repeat_full": s.repeat_slow, "max_points": s.max_points}
        self.step("history: MLflow")
        with self.mlflow_server(ml_db) as url:
            ml = drivers.mlflow("history", {"uri": url, "run_id": ml_pop["run_id"], **args})
        self.step("history: Shipyard")
        with self.shipyard_server(sy_db) as url:
            sy = drivers.shipyard("history", {"uri": url, "run_id": sy_pop["run_id"], **args})
        for name, result in (("MLflow", ml), ("Shipyard", sy)):
            if result["full_points"] != points:
                self.notes.append(f"{name} returned {result['full_points']} of {points} points")
        self.rows += [
            Row(
                "history.full", f"metric history, {points:,} points, full", "s", False,
                sy["full_s"], ml["full_s"],
                "RestStore.get_metric_history", "MlflowClient.get_metric_history",
            ),
            Row(
                "history.sampled", f"metric history, {points:,} points, for a chart", "ms", False,
                sy["sampled_s"], ml["sampled_s"],
                f"get_metric_history(max_points={s.max_points}): {sy['sampled_points']} points "
                "(first, last, min and max per bucket)",
                f"GET /ajax-api/2.0/mlflow/metrics/get-history-bulk-interval "
                f"max_results={s.max_points}: {ml['sampled_points']} points (evenly sampled)",
                scale=1000.0,
            ),
        ]  # fmt: skip
        for db in (ml_db, sy_db):
            db.unlink(missing_ok=True)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument(
        "--suite",
        choices=("all", "tracking", "data", "drift", "serving"),
        default="all",
        help="tracking (vs MLflow), data (vs DVC), drift (vs Evidently), or all (default)",
    )
    parser.add_argument("--evidently", default="evidently", help="pip requirement for Evidently")
    parser.add_argument("--drift-output", type=Path, default=DRIFT_RESULTS)
    parser.add_argument("--serving-output", type=Path, default=SERVING_RESULTS)
    parser.add_argument(
        "--no-wrk", action="store_true", help="serving: the Python load generator even with wrk"
    )
    parser.add_argument("--data-big-mib", type=int, help="size of case (a) in MiB")
    parser.add_argument("--data-big-files", type=int, help="files of case (a)")
    parser.add_argument("--data-small-files", type=int, help="files of case (b)")
    parser.add_argument(
        "--no-data-server", action="store_true", help="skip the data runs through a server"
    )
    parser.add_argument("--dvc", default="dvc", help="pip requirement for DVC's venv")
    parser.add_argument("--data-output", type=Path, default=DATA_RESULTS)
    parser.add_argument(
        "--only",
        action="append",
        choices=("ingest", "search", "history"),
        help="run only these parts (repeatable)",
    )
    parser.add_argument("--search-runs", help="comma-separated run counts, e.g. 10000,100000")
    parser.add_argument("--history-points", type=int)
    parser.add_argument("--ingest-points", type=int)
    parser.add_argument("--repeat", type=int, help="repetitions of the fast measurements")
    parser.add_argument("--mlflow", default="mlflow", help="pip requirement for MLflow's venv")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--keep", action="store_true", help="keep databases and server logs")
    return parser.parse_args(argv)  # fmt: skip


def _sizes(args: argparse.Namespace) -> Sizes:
    sizes = QUICK if args.quick else FULL
    if args.search_runs:
        sizes = replace(sizes, search_runs=tuple(int(n) for n in args.search_runs.split(",")))
    if args.history_points:
        sizes = replace(sizes, history_points=args.history_points)
    if args.ingest_points:
        sizes = replace(sizes, ingest_points=args.ingest_points)
    if args.repeat:
        sizes = replace(sizes, repeat=args.repeat)
    return sizes


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    console = Console()
    command = "python -m benchmarks.run " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.suite in ("all", "tracking"):
        _tracking(args, console, command.strip())
    if args.suite in ("all", "data"):
        _data(args, console, command.strip())
    if args.suite in ("all", "drift"):
        drift_bench.run_suite(
            console,
            quick=args.quick,
            output=args.drift_output,
            command=command.strip(),
            machine=_machine(),
            requirement=args.evidently,
            keep=args.keep,
        )
    if args.suite in ("all", "serving"):
        serving_bench.run_suite(
            console,
            quick=args.quick,
            mlflow_requirement=args.mlflow,
            output=args.serving_output,
            keep=args.keep,
            command=command.strip(),
            prefer_wrk=not args.no_wrk,
        )
    return 0


def _machine() -> dict[str, Any]:
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }


def _data(args: argparse.Namespace, console: Console, command: str) -> None:
    sizes = data_bench.DATA_QUICK if args.quick else data_bench.DATA_FULL
    if args.data_big_mib:
        sizes = replace(sizes, big_bytes=args.data_big_mib * data_bench.MIB)
    if args.data_big_files:
        sizes = replace(sizes, big_files=args.data_big_files)
    if args.data_small_files:
        sizes = replace(sizes, small_files=args.data_small_files)
    dvc_version = data_bench.ensure_dvc(console, args.dvc)
    shipyard_version = drivers.shipyard("version", {})["version"]
    work = WORK / f"data-{dt.datetime.now():%Y%m%d-%H%M%S}"
    work.mkdir(parents=True)
    console.rule(f"Shipyard {shipyard_version} vs DVC {dvc_version}: data versioning")
    bench = data_bench.DataBench(sizes, work, console, server=not args.no_data_server)
    started = time.perf_counter()
    try:
        bench.run()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - started
    meta: dict[str, Any] = {
        **_machine(),
        "command": command,
        "quick": args.quick,
        "shipyard_version": shipyard_version,
        **data_bench.meta_of(sizes, dvc_version, bench.hashing),
        "elapsed_s": round(elapsed, 1),
        "timing": "one repetition per step; wall time of each command line, process start "
        "included, for both tools; page cache warm",
    }
    title = (
        f"Shipyard {shipyard_version} vs DVC {dvc_version}, local store vs local remote "
        f"({os.cpu_count()} cores, {elapsed / 60:.1f} min)"
    )
    print_table(console, bench.rows, title, other="DVC")
    for note in bench.notes:
        console.print(f"[red]note:[/] {note}")
    write_json(args.data_output, meta, bench.rows, bench.notes, other="dvc")
    console.print(f"Results written to {args.data_output}")


def _tracking(args: argparse.Namespace, console: Console, command: str) -> None:
    sizes = _sizes(args)
    parts = args.only or ["ingest", "search", "history"]
    mlflow_version = ensure_mlflow(console, args.mlflow)
    shipyard_version = drivers.shipyard("version", {})["version"]
    work = WORK / f"run-{dt.datetime.now():%Y%m%d-%H%M%S}"
    work.mkdir(parents=True)
    console.rule(f"Shipyard {shipyard_version} vs MLflow {mlflow_version}")
    bench = Bench(sizes, work, console)
    started = time.perf_counter()
    try:
        if "ingest" in parts:
            bench.ingest()
        if "search" in parts:
            for runs in sizes.search_runs:
                bench.search(runs)
        if "history" in parts:
            bench.history()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - started
    meta: dict[str, Any] = {
        **_machine(),
        "command": command,
        "quick": args.quick,
        "sizes": asdict(sizes),
        "shipyard_version": shipyard_version,
        "mlflow_version": mlflow_version,
        "elapsed_s": round(elapsed, 1),
    }
    title = (
        f"Shipyard {shipyard_version} vs MLflow {mlflow_version}, one client, local server, "
        f"SQLite ({os.cpu_count()} cores, {elapsed / 60:.1f} min)"
    )
    print_table(console, bench.rows, title)
    for note in bench.notes:
        console.print(f"[red]note:[/] {note}")
    write_json(args.output, meta, bench.rows, bench.notes)
    console.print(f"Results written to {args.output}")


if __name__ == "__main__":
    sys.exit(main())
