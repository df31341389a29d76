"""MLflow's and DVC's own virtual environments, made and filled by the benchmark itself.

Neither is installed into Shipyard's environment: their pins would drift
ours, and the comparison would not be of each tool as its users install it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rich.console import Console

WORK = Path(__file__).resolve().parent / ".work"
MLFLOW_VENV = WORK / "mlflow-venv"
DVC_VENV = WORK / "dvc-venv"


def mlflow_python(venv: Path = MLFLOW_VENV) -> Path:
    return venv / "bin" / "python"


def mlflow_executable(venv: Path = MLFLOW_VENV) -> Path:
    return venv / "bin" / "mlflow"


def ensure_mlflow(console: Console, requirement: str = "mlflow", venv: Path = MLFLOW_VENV) -> str:
    """Create the venv and ``pip install`` MLflow when missing; returns MLflow's version."""
    return ensure_venv(console, "MLflow", "mlflow", requirement, venv)


def ensure_venv(console: Console, label: str, module: str, requirement: str, venv: Path) -> str:
    """Create ``venv`` and ``pip install requirement`` unless ``module`` imports; its version."""
    python = venv / "bin" / "python"
    probe_code = f"import {module}; print({module}.__version__)"
    if not python.exists():
        console.print(f"Creating {label}'s virtual environment in {venv} ...")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    probe = subprocess.run(
        [str(python), "-c", probe_code], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        console.print(f"Installing {requirement} into {venv} (a few minutes, once) ...")
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, requirement], check=True)
        probe = subprocess.run(
            [str(python), "-c", probe_code], capture_output=True, text=True, check=True
        )
    return probe.stdout.strip()
