"""The real ``python -m shipyard`` process: exit codes, one-line errors, JSON on stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import shipyard as sy

pytestmark = pytest.mark.usefixtures("store_uri")


def shipyard(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipyard", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
        cwd=cwd,
    )


def test_listing_and_showing_runs_in_a_real_process(tmp_path: Path) -> None:
    with sy.start_run(name="real", experiment="mnist") as run:
        run.log_metric("acc", float("inf"))
        run.log_text("x", "out/x.txt")
    listed = shipyard("runs", "ls", "--json")
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert data[0]["id"] == run.id and data[0]["metrics"]["acc"]["value"] == "Infinity"
    shown = shipyard("runs", "show", run.id[:6])
    assert shown.returncode == 0 and "real" in shown.stdout and "out/x.txt" in shown.stdout
    got = shipyard("artifacts", "get", run.id[:6], "--dest", str(tmp_path / "dl"))
    assert got.returncode == 0 and (tmp_path / "dl" / "out" / "x.txt").read_text() == "x"
    experiments = json.loads(shipyard("experiments", "ls", "--json").stdout)
    assert [e["name"] for e in experiments] == ["mnist"]


@pytest.mark.parametrize(
    "args",
    [
        ("runs", "ls", "--filter", "metrics.acc > > 1"),
        ("runs", "show", "0123456789abcdef0123456789abcdef"),
        ("experiments", "delete", "does-not-exist"),
        ("artifacts", "ls", "abc"),
    ],
)
def test_a_user_error_is_one_line_on_stderr_and_exit_1(args: tuple[str, ...]) -> None:
    done = shipyard(*args)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: ") and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr and done.stdout == ""
