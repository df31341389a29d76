"""Session fixtures of the monitoring tests: a real registry, a real ``shipyard serve`` with
prediction logging, real traffic, and a real ``shipyard server --monitors``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shipyard.config import ARTIFACTS_FOLDER
from shipyard.entities import now_ms
from shipyard.monitoring.feedback import record_feedback
from shipyard.monitoring.monitors import add_monitor
from shipyard.tracking.client import Client
from tests.monitoring.scenario import (
    ROWS_PER_REQUEST,
    Digits,
    Phase,
    build_registry,
    digits,
    drifted,
    log_rows,
    send_phase,
    wait_logged,
)
from tests.serving.live import ServeProcess, started
from tests.support.live_server import live_server


@dataclass
class Registry:
    store: str
    home: str
    client: Client
    data: Digits
    model: Any

    @property
    def env(self) -> dict[str, str]:
        return {"SHIPYARD_URI": self.store, "SHIPYARD_HOME": self.home}


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    root = tmp_path_factory.mktemp("monitoring-registry")
    store, home = str(root / "store"), str(root / "home")
    data = digits()
    with Client(store) as client, pytest.MonkeyPatch.context() as patch:
        patch.setenv("SHIPYARD_HOME", home)
        model = build_registry(client, data)
        yield Registry(store, home, client, data, model)


@pytest.fixture(scope="session")
def served(registry: Registry) -> Iterator[ServeProcess]:
    """``shipyard serve models:/digits@production`` logging every prediction."""
    args = ["models:/digits@production", "--poll-interval", "0"]
    with started(args, registry.env) as server:
        server.wait_ready()
        yield server


@dataclass
class Traffic:
    normal: Phase
    drifted: Phase
    mislabelled: Phase


def _labels(phase: Phase, y: Any) -> list[tuple[str, Any]]:
    """One list label per request: a label for each of its rows."""
    return [
        (rid, [int(v) for v in y[i * ROWS_PER_REQUEST : (i + 1) * ROWS_PER_REQUEST]])
        for i, rid in enumerate(phase.request_ids)
    ]


@pytest.fixture(scope="session")
def traffic(registry: Registry, served: ServeProcess) -> Traffic:
    """Three phases sent to the server: the test digits over V2 (true labels come back), the
    same digits through a noisy camera over /invocations (no labels), and the test digits
    again over V2 with wrong labels."""
    data = registry.data
    normal = send_phase(served.url, "normal", data.x_test, v2=True)
    noisy = send_phase(served.url, "drifted", drifted(data.x_test))
    wrong = send_phase(served.url, "mislabelled", data.x_test, v2=True)
    record_feedback(registry.client, "digits", _labels(normal, data.y_test))
    record_feedback(registry.client, "digits", _labels(wrong, (data.y_test + 1) % 10))
    wait_logged(registry.client, "digits", normal.rows + noisy.rows + wrong.rows)
    return Traffic(normal, noisy, wrong)


@dataclass
class MonitoredServer:
    url: str
    folder: Path
    monitor_id: str


@pytest.fixture(scope="session")
def monitored_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MonitoredServer]:
    """``shipyard server --monitors`` over a store holding a due monitor of drifted traffic."""
    folder = tmp_path_factory.mktemp("monitored") / "store"
    data = digits()
    home = str(folder.parent / "home")
    with pytest.MonkeyPatch.context() as patch, Client(str(folder)) as client:
        patch.setenv("SHIPYARD_HOME", home)
        model = build_registry(client, data)
        log_rows(client, "digits", model, drifted(data.x_test[:200]), "drifted")
        monitor = add_monitor("models:/digits@production", "1h", start_at=now_ms(), client=client)
    with live_server(
        str(folder),
        str(folder / ARTIFACTS_FOLDER),
        extra_args=("--monitors",),
        env={"SHIPYARD_HOME": home},
    ) as url:
        yield MonitoredServer(url, folder, monitor.id)
