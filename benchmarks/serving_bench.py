"""``--suite serving``: ``shipyard serve`` against ``mlflow models serve``, one model, one run.

The same scikit-learn digits classifier (trained once, here) is logged to
Shipyard and saved as an MLflow model in MLflow's own venv. Each server runs
alone on a free loopback port with one worker; a closed-loop load generator
(:mod:`benchmarks.serving_load`) sends ``POST /invocations`` with one row of
64 pixels, ``{"inputs": [[...]]}``, to both (the same body, the same route),
for a fixed time at each concurrency. Before timing, each server's answer is
checked against the model's own prediction.

Also measured: the generator's ceiling against a trivial endpoint, and a bare
in-process ``model.predict`` of one row, so the servers' overhead at
concurrency 1 is their median latency minus that.
"""

from __future__ import annotations

import json
import os
import pickle
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from benchmarks import drivers, serving_load
from benchmarks.environment import mlflow_executable, mlflow_python
from benchmarks.servers import free_port, serve

SERVING_DRIVER = Path(__file__).resolve().parent / "serving_mlflow_driver.py"
MODEL_NAME = "digits-bench"


@dataclass(frozen=True)
class ServingSizes:
    seconds: float
    concurrency: tuple[int, ...]
    warmup_seconds: float
    bare_calls: int


SERVING_FULL = ServingSizes(
    seconds=10.0, concurrency=(1, 16, 64), warmup_seconds=2.0, bare_calls=5000
)
SERVING_QUICK = ServingSizes(
    seconds=3.0, concurrency=(1, 16, 64), warmup_seconds=1.0, bare_calls=1000
)


def _mlflow_driver(command: str, args: dict[str, Any]) -> dict[str, Any]:
    argv = [str(mlflow_python()), str(SERVING_DRIVER), command, json.dumps(args)]
    return drivers._run(argv, timeout=600)


class ServingBench:
    def __init__(self, sizes: ServingSizes, work: Path, console: Console, prefer_wrk: bool) -> None:
        self.sizes = sizes
        self.work = work
        self.console = console
        self.prefer_wrk = prefer_wrk
        self.results: dict[str, Any] = {}
        self.notes: list[str] = []

    def step(self, text: str) -> None:
        self.console.print(f"[bold cyan]>[/] {text}")

    # -- the model -------------------------------------------------------------------
    def train(self) -> None:
        import numpy as np
        from sklearn.datasets import load_digits
        from sklearn.linear_model import LogisticRegression

        self.step("training the digits classifier (LogisticRegression, once)")
        X, y = load_digits(return_X_y=True)
        X = X.astype(np.float64)
        self.model = LogisticRegression(max_iter=5000).fit(X, y)
        self.sample = X[:8]
        self.expected = [int(p) for p in self.model.predict(self.sample)]
        self.row = [float(v) for v in X[0]]
        self.body = json.dumps({"inputs": [self.row]}).encode()
        self.pickle_path = self.work / "digits.pkl"
        self.pickle_path.write_bytes(pickle.dumps(self.model))

    def bare_predict(self) -> None:
        """The model's own cost for one row, in-process: what a server adds is the rest."""
        import numpy as np

        x = np.asarray([self.row])
        for _ in range(100):
            self.model.predict(x)
        times = []
        for _ in range(self.sizes.bare_calls):
            started = time.perf_counter_ns()
            self.model.predict(x)
            times.append(time.perf_counter_ns() - started)
        self.results["bare_predict_ms"] = statistics.median(times) / 1e6

    def log_to_shipyard(self) -> str:
        self.step("logging the model to Shipyard (local store)")
        self.store_dir = self.work / "shipyard-store"
        code = (
            "import pickle, sys, numpy as np, shipyard as sy\n"
            "model = pickle.load(open(sys.argv[1], 'rb'))\n"
            "client = sy.Client(sys.argv[2])\n"
            "with client.start_run(experiment='serving-bench') as run:\n"
            "    info = run.log_model(model, input_example=np.asarray(pickle.loads(\n"
            "        bytes.fromhex(sys.argv[3]))), registered_model_name=sys.argv[4])\n"
            "print(info.model_version.version)\n"
        )
        sample = pickle.dumps(self.sample[:2].tolist()).hex()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
        done = subprocess.run(
            [sys.executable, "-c", code, str(self.pickle_path), str(self.store_dir), sample,
             MODEL_NAME],
            capture_output=True, text=True, env=env, check=False, timeout=600,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"logging the model to Shipyard failed:\n{done.stderr[-4000:]}")
        return f"models:/{MODEL_NAME}/{done.stdout.strip().splitlines()[-1]}"

    def save_for_mlflow(self) -> Path:
        self.step("saving the same model as an MLflow model (MLflow's venv)")
        out = self.work / "mlflow-model"
        answer = _mlflow_driver(
            "save-model",
            {"pickle": str(self.pickle_path), "out": str(out), "sample": self.sample.tolist()},
        )
        if answer["predictions"] != self.expected:
            self.notes.append("MLflow's venv predicts differently from the trained model")
        self.results["mlflow_sklearn"] = answer["sklearn"]
        return out

    # -- measurements ------------------------------------------------------------------
    def _check_answer(self, url: str, tool: str) -> None:
        answer = httpx.post(
            url, content=self.body, headers={"Content-Type": "application/json"}, timeout=30
        )
        answer.raise_for_status()
        data = answer.json()
        got = data.get("predictions") if isinstance(data, dict) else data
        flat = got[0] if isinstance(got, list) and got else got
        if isinstance(flat, dict):  # a row of named outputs
            flat = next(iter(flat.values()))
        if int(flat) != self.expected[0]:
            raise RuntimeError(f"{tool} answered {data!r}, expected {self.expected[0]}")

    def _sweep(self, url: str, tool: str) -> list[dict[str, Any]]:
        self._check_answer(url, tool)
        serving_load.run_load(
            url, self.body, 16, self.sizes.warmup_seconds, prefer_wrk=self.prefer_wrk
        )
        points = []
        for concurrency in self.sizes.concurrency:
            result = serving_load.run_load(
                url, self.body, concurrency, self.sizes.seconds, prefer_wrk=self.prefer_wrk
            )
            self.console.print(
                f"  {tool:9} c={concurrency:<3} {result.rps:9,.0f} req/s  "
                f"p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms  "
                f"errors {result.errors}"
            )
            if result.errors:
                self.notes.append(f"{tool} at concurrency {concurrency}: {result.errors} errors")
            points.append(result.to_json())
        return points

    def generator_ceiling(self) -> None:
        self.step(f"load generator ({serving_load.generator_name(self.prefer_wrk)}) "
                  "against a trivial endpoint")  # fmt: skip
        port = free_port()
        argv = [sys.executable, "-m", "benchmarks.serving_load", "trivial-server", str(port)]
        with serve(argv, port, "/", self.work / "trivial.log") as url:
            result = serving_load.run_load(
                url + "/invocations", self.body, 64, min(self.sizes.seconds, 5.0),
                prefer_wrk=self.prefer_wrk,
            )  # fmt: skip
        self.results["generator"] = result.to_json()
        self.console.print(f"  ceiling: {result.rps:,.0f} req/s at concurrency 64")

    def shipyard(self, model_uri: str) -> None:
        self.step("shipyard serve (1 worker, prediction logging on, defaults)")
        port = free_port()
        argv = [sys.executable, "-m", "shipyard", "serve", model_uri,
                "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
        env["SHIPYARD_URI"] = str(self.store_dir)
        with serve(argv, port, "/v2/health/ready", self.work / "shipyard.log", env=env) as url:
            self.results["shipyard"] = self._sweep(url + "/invocations", "shipyard")

    def mlflow(self, model_dir: Path) -> None:
        self.step("mlflow models serve --env-manager local (1 worker)")
        port = free_port()
        argv = [str(mlflow_executable()), "models", "serve", "-m", str(model_dir),
                "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port),
                "-w", "1"]  # fmt: skip
        env = {**os.environ, **drivers.QUIET_ENV}
        env["PATH"] = f"{mlflow_executable().parent}{os.pathsep}{env.get('PATH', '')}"
        with serve(argv, port, "/ping", self.work / "mlflow.log", env=env) as url:
            self.results["mlflow"] = self._sweep(url + "/invocations", "mlflow")

    def run(self) -> None:
        self.train()
        self.bare_predict()
        uri = self.log_to_shipyard()
        model_dir = self.save_for_mlflow()
        self.generator_ceiling()
        self.shipyard(uri)
        self.mlflow(model_dir)


def print_serving_table(console: Console, results: dict[str, Any], title: str) -> None:
    table = Table(title=title, title_justify="left")
    for column in ("concurrency", "Shipyard req/s", "MLflow req/s", "ratio",
                   "Shipyard p50 / p99 ms", "MLflow p50 / p99 ms"):  # fmt: skip
        table.add_column(column, justify="right")
    for sy, ml in zip(results["shipyard"], results["mlflow"], strict=True):
        ratio = sy["rps"] / ml["rps"] if ml["rps"] else float("nan")
        style = "green" if ratio >= 3 else ("yellow" if ratio >= 1 else "red")
        table.add_row(
            str(sy["concurrency"]),
            f"{sy['rps']:,.0f}",
            f"{ml['rps']:,.0f}",
            f"[{style}]{ratio:.1f}x[/]",
            f"{sy['p50_ms']:.2f} / {sy['p99_ms']:.2f}",
            f"{ml['p50_ms']:.2f} / {ml['p99_ms']:.2f}",
        )
    console.print(table)
    bare = results["bare_predict_ms"]
    sy1, ml1 = results["shipyard"][0], results["mlflow"][0]
    console.print(
        f"bare model.predict of one row: {bare * 1000:.0f} µs; overhead at concurrency "
        f"{sy1['concurrency']} (p50 minus that): Shipyard {sy1['p50_ms'] - bare:.2f} ms, "
        f"MLflow {ml1['p50_ms'] - bare:.2f} ms"
    )
    generator = results["generator"]
    console.print(
        f"load generator {generator['generator']}: {generator['rps']:,.0f} req/s against a "
        "trivial endpoint at concurrency 64 (its ceiling on this machine)"
    )


def verdict(results: dict[str, Any]) -> dict[str, Any]:
    """The targets: >= 3x MLflow's throughput at the highest concurrency with a lower p99,
    and < 1 ms overhead at concurrency 1."""
    sy, ml = results["shipyard"][-1], results["mlflow"][-1]
    overhead = results["shipyard"][0]["p50_ms"] - results["bare_predict_ms"]
    return {
        "throughput_ratio": sy["rps"] / ml["rps"] if ml["rps"] else None,
        "throughput_target_met": bool(ml["rps"] and sy["rps"] >= 3 * ml["rps"]),
        "p99_lower": sy["p99_ms"] < ml["p99_ms"],
        "overhead_ms": overhead,
        "overhead_target_met": overhead < 1.0,
    }


def run_suite(
    console: Console,
    *,
    quick: bool,
    mlflow_requirement: str,
    output: Path,
    keep: bool,
    command: str,
    prefer_wrk: bool = True,
) -> dict[str, Any]:
    """The whole serving comparison: measure, print the table, write ``output``."""
    import datetime as dt
    import platform
    import shutil

    from benchmarks.environment import WORK, ensure_mlflow

    sizes = SERVING_QUICK if quick else SERVING_FULL
    mlflow_version = ensure_mlflow(console, mlflow_requirement)
    shipyard_version = drivers.shipyard("version", {})["version"]
    work = WORK / f"serving-{dt.datetime.now():%Y%m%d-%H%M%S}"
    work.mkdir(parents=True)
    console.rule(f"Shipyard {shipyard_version} vs MLflow {mlflow_version}: model serving")
    bench = ServingBench(sizes, work, console, prefer_wrk)
    load_before = os.getloadavg()
    started = time.perf_counter()
    try:
        bench.run()
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - started
    results = bench.results
    import sklearn

    document = {
        "meta": {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "command": command,
            "quick": quick,
            "seconds_per_point": sizes.seconds,
            "shipyard_version": shipyard_version,
            "mlflow_version": mlflow_version,
            "sklearn": {"shipyard": sklearn.__version__, "mlflow": results.get("mlflow_sklearn")},
            "model": "LogisticRegression(max_iter=5000) on sklearn digits (64 features)",
            "request": 'POST /invocations {"inputs": [[64 floats]]}, one row',
            "elapsed_s": round(elapsed, 1),
            # The machines are shared: how busy this one was around the run.
            "load_average": {"before": load_before, "after": os.getloadavg()},
        },
        "results": results,
        "verdict": verdict(results),
        "notes": bench.notes,
    }
    title = (
        f"Shipyard {shipyard_version} vs MLflow {mlflow_version} serving, one worker each, "
        f"{sizes.seconds:g} s per point ({os.cpu_count()} cores)"
    )
    print_serving_table(console, results, title)
    for note in bench.notes:
        console.print(f"[red]note:[/] {note}")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    console.print(f"Results written to {output}")
    return document
