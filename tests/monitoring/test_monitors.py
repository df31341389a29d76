"""Monitors: stored with their thresholds, run when due (once per slot, however many
schedulers), each run a stored report; the CLI adds, lists, runs and removes them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from shipyard.cli.main import cli
from shipyard.entities import now_ms
from shipyard.errors import InvalidInputError, NotFoundError
from shipyard.monitoring.monitors import add_monitor, find_monitor, remove_monitor
from shipyard.monitoring.runner import MonitorRunner, next_run_after
from shipyard.monitoring.windows import Window, parse_duration, parse_time
from tests.monitoring.conftest import Registry
from tests.monitoring.scenario import drifted, log_rows
from tests.support.live_server import free_port

MINUTE = 60_000


@pytest.fixture(autouse=True)
def no_monitors(registry: Registry) -> Iterator[None]:
    """Each test starts and ends with no monitor in the shared store."""
    store = registry.client.store
    for monitor in store.list_monitors():
        store.delete_monitor(monitor.id)
    yield
    for monitor in store.list_monitors():
        store.delete_monitor(monitor.id)


def test_a_monitor_runs_when_due_and_keeps_its_rhythm(registry: Registry) -> None:
    client, data = registry.client, registry.data
    log_rows(client, "digits-sched", registry.model, data.x_test[:120], "sched")
    start = now_ms() + 3_600_000
    monitor = add_monitor(
        "models:/digits@production",
        "10m",
        name="digits-sched",
        last=120,
        start_at=start,
        thresholds={"drift_share": 0.4},
        client=client,
    )
    assert monitor.state == "pending" and monitor.next_run_at == start
    assert monitor.every_seconds == 600 and monitor.thresholds == {"drift_share": 0.4}
    assert monitor.config == {"trust": False, "last_n": 120, "name": "digits-sched"}
    runner = MonitorRunner(client)

    assert runner.run_once(now=start - 1) == []
    [run] = runner.run_once(now=start)
    assert run.previous == "pending" and run.state == "ok" and not run.alerted
    assert run.report is not None and run.report.rows == 120
    assert run.report.monitor_id == monitor.id and run.report.drift.drift_share == 0.4
    after = client.store.get_monitor(monitor.id)
    assert after.state == "ok" and after.next_run_at == start + 10 * MINUTE
    assert after.last_run_at is not None

    assert runner.run_once(now=start + MINUTE) == []  # not due again yet
    # The scheduler was down for three slots: one run now, then the next slot after now.
    late = start + 33 * MINUTE
    [run] = runner.run_once(now=late)
    assert client.store.get_monitor(monitor.id).next_run_at == start + 40 * MINUTE
    assert next_run_after(after, late) == start + 40 * MINUTE

    series = client.store.list_reports(monitor_id=monitor.id).items
    assert len(series) == 2 and all(r.monitor_id == monitor.id for r in series)
    assert all(r.model_name == "digits-sched" and r.row_count == 120 for r in series)


def test_racing_schedulers_run_a_slot_once(registry: Registry) -> None:
    client, data = registry.client, registry.data
    log_rows(client, "digits-race", registry.model, data.x_test[:50], "race")
    start = now_ms() + 7_200_000
    monitor = add_monitor(
        "models:/digits/1", 60, name="digits-race", last=50, start_at=start, client=client
    )
    runners = [MonitorRunner(client) for _ in range(4)]
    barrier = threading.Barrier(len(runners))
    counts: list[int] = []

    def race(runner: MonitorRunner) -> None:
        barrier.wait()
        counts.append(len(runner.run_once(now=start)))

    threads = [threading.Thread(target=race, args=(r,)) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == [0, 0, 0, 1]
    assert len(client.store.list_reports(monitor_id=monitor.id).items) == 1


def test_a_window_without_predictions_keeps_the_state(registry: Registry) -> None:
    client = registry.client
    monitor = add_monitor(
        "models:/digits/1", "1h", name="digits-silent", start_at=1_000, client=client
    )
    [run] = MonitorRunner(client).run_once(now=2_000)
    assert run.no_data and run.state == "pending" and run.report is None
    assert client.store.get_monitor(monitor.id).state == "pending"
    assert client.store.list_reports(monitor_id=monitor.id).items == []


def test_bad_monitors_are_refused_before_they_are_stored(registry: Registry) -> None:
    client = registry.client
    for kwargs, message in [
        ({"model_uri": "models:/nope/1"}, "nope"),
        ({"model_uri": "models:/digits/1", "every": "0s"}, "duration"),
        ({"model_uri": "models:/digits/1", "every": "soon"}, "duration"),
        ({"model_uri": "models:/digits/1", "webhook": "ftp://x"}, "webhook"),
        ({"model_uri": "models:/digits/1", "thresholds": {"accuracy_drop": -1}}, "negative"),
        ({"model_uri": "models:/digits/1", "reference": "datasets:/nope/1"}, "nope"),
        ({"model_uri": "models:/digits/1", "window": "1h", "last": 5}, "not both"),
    ]:
        with pytest.raises((InvalidInputError, NotFoundError), match=message):
            add_monitor(client=client, **kwargs)  # type: ignore[arg-type]
    assert client.store.list_monitors() == []
    with pytest.raises(NotFoundError):
        find_monitor("abcdef", client=client)
    with pytest.raises(InvalidInputError, match="at least 4"):
        remove_monitor("ab", client=client)


def test_windows_and_durations() -> None:
    assert parse_duration("24h") == 86_400_000 and parse_duration("90s") == 90_000
    assert parse_duration("1.5m") == 90_000 and parse_duration(30) == 30_000
    assert parse_time("1700000000000") == 1_700_000_000_000
    assert parse_time("2h", now=10_000_000) == 10_000_000 - 7_200_000
    assert parse_time("2024-06-01T00:00:00+00:00") == 1_717_200_000_000
    assert Window.parse("1h").seconds == 3600 and Window.parse().seconds == 86_400
    window = Window.parse(last=10, since="1000", until="2000000000000")
    assert (window.last_n, window.since_ms) == (10, 1000)
    assert Window.from_dict(window.to_dict()) == window
    for bad in ("", "1x", "-1h"):
        with pytest.raises(InvalidInputError):
            parse_duration(bad)
    with pytest.raises(InvalidInputError, match="after"):
        Window.parse(since="2000000000000", until="1000")


def test_the_cli_adds_lists_runs_and_removes(registry: Registry) -> None:
    client, data = registry.client, registry.data
    log_rows(client, "digits-cli", registry.model, drifted(data.x_test[:100]), "cli")
    runner, env = CliRunner(), registry.env
    added = runner.invoke(
        cli,
        [
            "monitor",
            "add",
            "models:/digits@production",
            "--every",
            "1h",
            "--name",
            "digits-cli",
            "--last",
            "100",
            "--thresholds",
            "drift_share=0.3,accuracy_drop=0.05",
            "--webhook",
            "http://127.0.0.1:9/unused",
            "--json",
        ],
        env=env,
    )
    assert added.exit_code == 0, added.output
    monitor = json.loads(added.stdout)
    assert monitor["thresholds"] == {"drift_share": 0.3, "accuracy_drop": 0.05}
    assert monitor["webhook"] == "http://127.0.0.1:9/unused"

    listed = runner.invoke(cli, ["monitor", "ls"], env=env)
    assert listed.exit_code == 0 and monitor["id"][:8] in listed.stdout
    assert "pending" in listed.stdout and "drift_share=0.3" in listed.stdout

    ran = runner.invoke(cli, ["monitor", "run", "--once"], env=env)
    assert ran.exit_code == 0, ran.output
    assert f"monitor {monitor['id'][:8]}" in ran.stderr and "pending -> drift" in ran.stderr
    again = runner.invoke(cli, ["monitor", "run", "--once"], env=env)
    assert again.exit_code == 0 and "No monitor is due." in again.stderr
    assert client.store.get_monitor(monitor["id"]).state == "drift"

    reports = runner.invoke(
        cli, ["monitor", "reports", "--monitor", monitor["id"][:8], "--json"], env=env
    )
    [stored] = json.loads(reports.stdout)
    assert stored["summary"]["status"] == "drift" and stored["monitor_id"] == monitor["id"]

    removed = runner.invoke(cli, ["monitor", "rm", monitor["id"][:8]], env=env)
    assert removed.exit_code == 0 and "Deleted monitor" in removed.stdout
    gone = runner.invoke(cli, ["monitor", "rm", monitor["id"][:8]], env=env)
    assert gone.exit_code == 1 and gone.stderr.startswith("Error: no monitor")
    assert client.store.list_reports(monitor_id=None).items  # reports outlive the monitor

    bad = runner.invoke(
        cli, ["monitor", "add", "models:/digits/1", "--thresholds", "oops"], env=env
    )
    assert bad.exit_code == 1 and "NAME=VALUE" in bad.stderr and "Traceback" not in bad.output


def test_monitor_run_runs_until_stopped_and_serves_gauges(registry: Registry) -> None:
    client, data = registry.client, registry.data
    log_rows(client, "digits-daemon", registry.model, drifted(data.x_test[:80]), "daemon")
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "shipyard",
        "monitor",
        "run",
        "--poll",
        "0.2",
        "--metrics-port",
        str(port),
    ]
    process = subprocess.Popen(
        command,
        env={**os.environ, **registry.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Added while the scheduler runs: it looks again within --poll.
        monitor = add_monitor(
            "models:/digits/1", "1h", name="digits-daemon", last=80, client=client
        )
        deadline = time.monotonic() + 60
        while client.store.get_monitor(monitor.id).state == "pending":
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        assert client.store.get_monitor(monitor.id).state == "drift"
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        [sample] = [
            s
            for family in text_string_to_metric_families(text)
            for s in family.samples
            if s.name == "shipyard_monitor_dataset_drift"
        ]
        assert sample.labels == {"model": "digits-daemon", "version": "1", "monitor": monitor.id}
        assert sample.value == 1.0
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "pending -> drift" in err and "Stopped after 1 monitor run(s)." in err
