"""Alerts fire on a change of a monitor's state only, to a real webhook receiver on loopback:
ok -> drift fires once, drift again stays quiet, recovery fires; a broken webhook never
stops the scheduler."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from shipyard.monitoring.alerts import send_webhook, should_alert
from shipyard.monitoring.monitors import add_monitor
from shipyard.monitoring.runner import MonitorRunner
from shipyard.store.monitoring_base import MonitorRecord
from tests.monitoring.conftest import Registry
from tests.monitoring.scenario import drifted, log_rows, webhook_receiver

ROWS = 150
PHASE_MS = 10_000


@pytest.fixture(autouse=True)
def no_monitors(registry: Registry) -> Iterator[None]:
    store = registry.client.store
    for monitor in store.list_monitors():
        store.delete_monitor(monitor.id)
    yield
    for monitor in store.list_monitors():
        store.delete_monitor(monitor.id)


def _run_due(runner: MonitorRunner, monitor: MonitorRecord) -> str:
    """Run the monitor at its next due time; its state after."""
    due = runner.client.store.get_monitor(monitor.id).next_run_at
    [run] = runner.run_once(now=due)
    return run.state


def test_state_changes_alert_once_each(
    registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    client, data, model = registry.client, registry.data, registry.model
    base = 1_700_000_000_000  # each phase's rows are newer than the last's
    name = "digits-alerts"
    with webhook_receiver() as receiver:
        monitor = add_monitor(
            "models:/digits@production",
            "1h",
            webhook=receiver.url,
            name=name,
            last=ROWS,
            start_at=1_000,
            client=client,
        )
        runner = MonitorRunner(client)
        caplog.set_level(logging.INFO, logger="shipyard.monitoring")

        log_rows(client, name, model, data.x_test[:ROWS], "a", start_ms=base)
        assert _run_due(runner, monitor) == "ok"
        assert receiver.posts == []  # a first run that finds nothing wrong is no news

        log_rows(client, name, model, drifted(data.x_test[:ROWS]), "b", start_ms=base + PHASE_MS)
        assert _run_due(runner, monitor) == "drift"
        [alert] = receiver.wait_for(1)
        assert alert["event"] == "monitor_state_changed" and alert["problem"] is True
        assert (alert["previous_state"], alert["state"]) == ("ok", "drift")
        assert alert["monitor_id"] == monitor.id and alert["model_uri"] == monitor.model_uri
        assert (alert["model_name"], alert["model_version"]) == (name, 1)
        assert alert["summary"]["status"] == "drift" and alert["summary"]["dataset_drift"]
        assert alert["report_id"] == client.store.list_reports(monitor_id=monitor.id).items[0].id
        assert "ok -> drift" in alert["message"] and "columns drifted" in alert["message"]

        # Still drifting: a new report, no new alert.
        log_rows(
            client,
            name,
            model,
            drifted(data.x_test[:ROWS], seed=7),
            "c",
            start_ms=base + 2 * PHASE_MS,
        )
        assert _run_due(runner, monitor) == "drift"
        assert len(receiver.posts) == 1

        log_rows(client, name, model, data.x_test[-ROWS:], "d", start_ms=base + 3 * PHASE_MS)
        assert _run_due(runner, monitor) == "ok"
        posts = receiver.wait_for(2)
        assert len(posts) == 2
        assert (posts[1]["previous_state"], posts[1]["state"]) == ("drift", "ok")
        assert posts[1]["problem"] is False

    assert len(client.store.list_reports(monitor_id=monitor.id).items) == 4
    alerts = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ALERT")]
    assert len(alerts) == 2 and "ok -> drift" in alerts[0] and "drift -> ok" in alerts[1]


def test_a_failing_check_alerts_once_and_a_dead_webhook_does_not_stop_the_loop(
    registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    client, data = registry.client, registry.data
    log_rows(client, "digits-broken", registry.model, data.x_test[:40], "broken")
    with webhook_receiver() as receiver:
        broken = add_monitor(
            "models:/digits/1",
            "1h",
            webhook=receiver.url,
            name="digits-broken",
            target="no-such-column",
            last=40,
            start_at=1_000,
            client=client,
        )
        # Nothing listens on port 9 (discard): every delivery to it fails.
        unreachable = add_monitor(
            "models:/digits/1",
            "1h",
            webhook="http://127.0.0.1:9/hook",
            name="digits-broken",
            last=40,
            thresholds={"drift_share": 0.01},
            start_at=1_000,
            client=client,
        )
        runner = MonitorRunner(client, webhook_retries=2, webhook_timeout=2)
        caplog.set_level(logging.INFO, logger="shipyard.monitoring")
        runs = {run.monitor.id: run for run in runner.run_once(now=2_000)}
        assert set(runs) == {broken.id, unreachable.id}

        failed = runs[broken.id]
        assert failed.state == "error" and "no target column" in (failed.error or "")
        assert failed.alerted and failed.delivered is True
        [alert] = receiver.wait_for(1)
        assert alert["state"] == "error" and "no-such-column" in alert["error"]

        dead = runs[unreachable.id]
        assert dead.alerted and dead.delivered is False and dead.state == "drift"
        assert client.store.get_monitor(unreachable.id).state == "drift"
        assert any(
            "webhook http://127.0.0.1:9/hook failed" in r.getMessage() for r in caplog.records
        )

        # Failing again is no change: no second alert.
        again = {run.monitor.id: run for run in runner.run_once(now=2_000 + 3_600_000)}
        assert again[broken.id].state == "error" and not again[broken.id].alerted
        assert len(receiver.posts) == 1


def test_webhook_delivery_retries_server_errors_not_client_errors() -> None:
    payload = {"monitor_id": "m", "state": "drift"}
    with webhook_receiver([500, 503]) as receiver:
        assert send_webhook(receiver.url, payload, retries=3)
        assert receiver.wait_for(1) == [payload]
    with webhook_receiver([404]) as receiver:
        assert not send_webhook(receiver.url, payload, retries=3)
        assert receiver.statuses == [] and receiver.posts == []  # asked once, not again
    assert not send_webhook("http://127.0.0.1:9/hook", payload, retries=1, timeout=1)
    assert not send_webhook("not a url", payload, retries=1)


def test_which_changes_alert() -> None:
    assert not should_alert("pending", "ok")
    assert should_alert("pending", "drift") and should_alert("pending", "error")
    assert should_alert("ok", "drift") and should_alert("drift", "ok")
    assert should_alert("ok", "quality_drop") and should_alert("drift", "drift_and_quality_drop")
    assert not should_alert("drift", "drift") and not should_alert("ok", "ok")
