"""RestStore against real servers: errors, retries, and a server that goes away."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from shipyard.entities import Metric, Param
from shipyard.errors import (
    AlreadyExistsError,
    ConflictError,
    FilterSyntaxError,
    InvalidInputError,
    NotFoundError,
    ServiceUnavailableError,
)
from shipyard.store.rest.http import RetryPolicy
from shipyard.store.rest.store import RestStore
from tests.server.conftest import unique
from tests.support.live_server import free_port, live_server


def test_errors_come_back_as_their_own_class(server_url: str) -> None:
    with RestStore(server_url) as store:
        experiment = store.create_experiment(unique())
        with pytest.raises(AlreadyExistsError, match=experiment.name):
            store.create_experiment(experiment.name)
        with pytest.raises(NotFoundError):
            store.get_run("0" * 32)
        run = store.create_run(experiment.id)
        store.log_batch(run.id, params=[Param("p", "a")])
        with pytest.raises(ConflictError, match="'a'"):
            store.log_batch(run.id, params=[Param("p", "b")])
        with pytest.raises(FilterSyntaxError) as caught:
            store.search_runs([experiment.id], filter_string="metrics.x >")
        assert caught.value.position is not None
        with pytest.raises(InvalidInputError):
            store.log_batch(run.id, metrics=[Metric("bad key!", 1.0)])


@pytest.mark.parametrize("run_id", ["", "a/b", "..", "."])
def test_ids_that_would_change_the_route_are_not_found(server_url: str, run_id: str) -> None:
    with RestStore(server_url) as store, pytest.raises(NotFoundError):
        store.get_run(run_id)


def test_unreachable_server_gives_one_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    policy = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02, deadline=5)
    with RestStore(url, retry=policy) as store, pytest.raises(ServiceUnavailableError) as caught:
        store.get_experiment("x")
    assert url in caught.value.message
    assert "3 attempts" in caught.value.message


def test_a_server_down_for_a_moment_loses_nothing(tmp_path: Path) -> None:
    """A batch sent while the server restarts is retried until it lands, and stored once."""
    store_uri = f"sqlite:///{tmp_path / 'shipyard.db'}"
    artifacts = str(tmp_path / "blobs")
    port = free_port()
    # Generous bounds: the restart takes a few seconds on a busy machine.
    patient = RetryPolicy(attempts=200, base_delay=0.05, max_delay=0.5, deadline=60)
    with live_server(store_uri, artifacts, port=port) as url:
        store = RestStore(url, retry=patient)
        run = store.create_run(store.create_experiment(unique()).id)
        store.log_batch(run.id, metrics=[Metric("loss", 1.0, 0)])

    failures: list[BaseException] = []

    def log_while_down() -> None:
        try:
            for step in range(1, 4):
                store.log_batch(run.id, metrics=[Metric("loss", 1.0 / (step + 1), step)])
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    sender = threading.Thread(target=log_while_down)
    sender.start()  # the server is down: these batches wait and retry
    with live_server(store_uri, artifacts, port=port):
        sender.join(timeout=90)
        assert not sender.is_alive()
        assert failures == []
        history = store.get_metric_history(run.id, "loss")
        assert [point.step for point in history] == [0, 1, 2, 3]
    store.close()
