"""Metric points go through the background thread and are all stored: at run end,
on flush, and at interpreter exit in a process that never ends its run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import shipyard as sy
from shipyard.tracking.batching import backoff_delays

pytestmark = pytest.mark.usefixtures("store_uri")


def test_many_points_are_sent_in_batches_and_all_stored() -> None:
    with sy.start_run() as run:
        for step in range(2500):
            run.log_metric("loss", 1.0 / (step + 1))
    history = sy.get_metric_history(run.id, "loss")
    assert len(history) == 2500
    assert [p.step for p in history] == list(range(2500))
    assert history[-1].value == pytest.approx(1 / 2500)


def test_flush_makes_queued_points_visible_while_the_run_goes_on() -> None:
    with sy.start_run() as run:
        for step in range(10):
            run.log_metric("acc", step / 10)
        run.flush()
        assert len(sy.get_metric_history(run.id, "acc")) == 10
        assert run.info.metrics["acc"].value == pytest.approx(0.9)
        run.log_metric("acc", 1.0)
    assert sy.get_run(run.id).metrics["acc"] == 1.0


def test_backoff_delays_add_up_to_the_budget() -> None:
    delays = backoff_delays(10.0)
    assert sum(delays) == pytest.approx(10.0)
    assert delays[:3] == [0.25, 0.5, 1.0]
    assert max(delays) <= 4.0
    assert backoff_delays(0) == []


def _run_script(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(body))
    return subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
        cwd=tmp_path,
    )


def _only_run() -> sy.Run:
    frame = sy.search_runs()
    assert len(frame) == 1
    return sy.get_run(frame["run_id"][0])


def test_points_are_flushed_at_exit_when_the_script_never_ends_its_run(tmp_path: Path) -> None:
    done = _run_script(
        tmp_path,
        """
        import shipyard as sy
        run = sy.start_run(name="no-end")
        for step in range(3000):
            sy.log_metric("loss", float(step))
        print(run.id)
        """,
    )
    assert done.returncode == 0, done.stderr
    run = _only_run()
    assert run.id == done.stdout.strip()
    assert run.name == "no-end"
    assert run.status is sy.RunStatus.FINISHED
    assert len(run.history("loss")) == 3000


def test_an_uncaught_exception_at_exit_marks_the_run_failed(tmp_path: Path) -> None:
    done = _run_script(
        tmp_path,
        """
        import shipyard as sy
        sy.start_run()
        sy.log_metric("loss", 1.0)
        raise RuntimeError("boom")
        """,
    )
    assert done.returncode == 1 and "boom" in done.stderr
    run = _only_run()
    assert run.status is sy.RunStatus.FAILED
    assert run.metrics == {"loss": 1.0}


def test_a_keyboard_interrupt_at_exit_marks_the_run_killed(tmp_path: Path) -> None:
    done = _run_script(
        tmp_path,
        """
        import shipyard as sy
        sy.start_run()
        sy.log_metric("loss", 1.0)
        raise KeyboardInterrupt
        """,
    )
    assert done.returncode != 0
    assert _only_run().status is sy.RunStatus.KILLED
