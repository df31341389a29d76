"""Run one measurement in a fresh process of either tool and read back its JSON answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.environment import mlflow_python

ROOT = Path(__file__).resolve().parent.parent
MLFLOW_DRIVER = Path(__file__).resolve().parent / "mlflow_driver.py"


class DriverError(RuntimeError):
    pass


# MLflow at its best for tracking: no telemetry (nothing outside this machine is
# reachable, and its thread has raced with requests here), and no background job
# runner (a dozen worker processes for GenAI jobs that compete for the 2 cores).
QUIET_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
}


def _run(argv: list[str], timeout: float) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    done = subprocess.run(
        argv,
        cwd=ROOT,
        env={**env, **QUIET_ENV},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    # MLflow prints links to runs on stdout; the answer is the last line.
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise DriverError(
            f"{' '.join(argv[:3])} failed ({done.returncode}):\n{done.stderr[-4000:]}"
        )
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def mlflow(command: str, args: dict[str, Any], timeout: float = 3600) -> dict[str, Any]:
    argv = [str(mlflow_python()), str(MLFLOW_DRIVER), command, json.dumps(args)]
    return _run(argv, timeout)


def shipyard(command: str, args: dict[str, Any], timeout: float = 3600) -> dict[str, Any]:
    argv = [sys.executable, "-m", "benchmarks.shipyard_driver", command, json.dumps(args)]
    return _run(argv, timeout)
