"""The client against a real ``shipyard server``: the same API, and a server that
goes away for a while loses no metric points."""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import shipyard as sy
from shipyard.cli.main import cli
from shipyard.errors import ConflictError, ServiceUnavailableError
from shipyard.store.rest.blobs import RestBlobStore
from shipyard.store.rest.http import RetryPolicy
from shipyard.store.rest.store import RestStore
from tests.support.live_server import free_port, live_server

QUICK = RetryPolicy(attempts=2, base_delay=0.05, max_delay=0.1, deadline=0.5)


@pytest.fixture
def backing(tmp_path: Path) -> tuple[str, str]:
    return str(tmp_path / "server-store"), str(tmp_path / "server-artifacts")


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("shared-server")
    with live_server(str(folder / "store"), str(folder / "artifacts")) as url:
        yield url


@pytest.fixture
def server_url(shared_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SHIPYARD_URI", shared_server)
    return shared_server


def _quick_client(url: str, retry_seconds: float) -> sy.Client:
    return sy.Client(
        url,
        store=RestStore(url, retry=QUICK),
        blob_store=RestBlobStore(url),
        retry_seconds=retry_seconds,
    )


@pytest.mark.usefixtures("server_url")
def test_the_fluent_api_works_against_a_server(tmp_path: Path) -> None:
    local = tmp_path / "weights.bin"
    local.write_bytes(b"\x00\x01" * 5000)
    with sy.start_run(name="remote", experiment="mnist") as run:
        run.log_params({"lr": 0.1})
        for step in range(1500):
            run.log_metric("loss", 1 / (step + 1))
        run.log_metric("odd", math.nan)
        run.log_artifact(local, name="model/weights.bin")
        with pytest.raises(ConflictError):
            run.log_param("lr", 0.2)
        with sy.start_run(name="child") as child:
            sy.log_metric("acc", 0.5)
    stored = sy.get_run(run.id[:8])
    assert stored.status is sy.RunStatus.FINISHED
    assert stored.params == {"lr": "0.1"}
    assert len(stored.history("loss")) == 1500
    assert math.isnan(stored.metrics["odd"])
    assert stored.read_bytes("model/weights.bin") == local.read_bytes()
    assert "environment/requirements.txt" in {e.path for e in stored.artifacts}
    assert stored.tags["shipyard.python.version"]
    assert [c.id for c in stored.children] == [child.id]
    frame = sy.search_runs("metrics.loss < 0.01", experiments="mnist")
    assert list(frame["run_id"]) == [run.id]
    target = sy.download_artifacts(run.id, "model", dest=tmp_path / "out")
    assert (target / "weights.bin").read_bytes() == local.read_bytes()


@pytest.mark.usefixtures("server_url")
def test_the_cli_works_against_a_server(tmp_path: Path) -> None:
    with sy.start_run(name="for-cli", experiment="cli-remote") as run:
        run.log_param("model", "svm")
        run.log_metric("acc", 0.75)
        run.log_text("hello", "notes/hello.txt")
    runner = CliRunner()
    listed = runner.invoke(cli, ["runs", "ls", "-e", "cli-remote", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [r["id"] for r in json.loads(listed.stdout)] == [run.id]
    shown = runner.invoke(cli, ["runs", "show", run.id[:8]])
    assert shown.exit_code == 0 and "for-cli" in shown.stdout and "svm" in shown.stdout
    got = runner.invoke(cli, ["artifacts", "get", run.id[:8], "--dest", str(tmp_path)])
    assert got.exit_code == 0 and (tmp_path / "notes" / "hello.txt").read_text() == "hello"
    experiments = runner.invoke(cli, ["experiments", "ls", "--json"])
    assert "cli-remote" in {e["name"] for e in json.loads(experiments.stdout)}
    bad = runner.invoke(cli, ["runs", "ls", "--filter", "metrics.acc >"])
    assert bad.exit_code == 1 and bad.stderr.startswith("Error: ") and "position" in bad.stderr


def test_a_server_briefly_down_loses_nothing_and_a_long_outage_warns_once(
    backing: tuple[str, str],
) -> None:
    """Two runs through one outage: one retries long enough, the other gives up and warns."""
    port = free_port()
    with live_server(*backing, port=port) as url:
        patient = _quick_client(url, retry_seconds=120).start_run(capture=False)
        hasty = _quick_client(url, retry_seconds=0.5).start_run(capture=False)
        for step in range(5):
            patient.log_metric("loss", float(step))
        hasty.log_metric("kept", 1.0)
        patient.flush()
        hasty.flush()
    # The server is gone: logging goes on without blocking or raising.
    for step in range(5, 2005):
        patient.log_metric("loss", float(step))
    for step in range(3):
        hasty.log_metric("lost", float(step))
    with (
        pytest.warns(sy.MetricsNotStoredWarning, match="3 metric point"),
        pytest.raises(ServiceUnavailableError),
    ):
        hasty.end()
    with live_server(*backing, port=port):
        patient.end()
    local = sy.Client(backing[0], artifacts_uri=backing[1])  # the server's own database
    assert local.get_run(patient.id).status is sy.RunStatus.FINISHED
    history = local.get_metric_history(patient.id, "loss")
    assert [p.step for p in history] == list(range(2005))  # each point stored once
    assert local.get_run(hasty.id).metrics.keys() == {"kept"}


def test_a_with_block_over_a_lost_server_warns_instead_of_raising(
    backing: tuple[str, str],
) -> None:
    """The default client: each call to the server is tried once inside the batcher's budget."""
    with live_server(*backing) as url:
        client = sy.Client(url, retry_seconds=0.5)
        run = client.start_run(capture=False)
        run.log_metric("kept", 1.0)
        run.flush()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with run:
            for step in range(3):
                run.log_metric("lost", float(step))
    lost = [w for w in caught if issubclass(w.category, sy.MetricsNotStoredWarning)]
    assert len(lost) == 1 and "3 metric point" in str(lost[0].message)
    unfinished = [w for w in caught if "could not mark run" in str(w.message)]
    assert len(unfinished) == 1
    assert run.ended
    client.close()
    local = sy.Client(backing[0], artifacts_uri=backing[1])
    assert local.get_run(run.id).metrics.keys() == {"kept"}
