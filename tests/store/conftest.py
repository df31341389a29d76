"""The ``store`` fixture: every contract test runs on SQLite, PostgreSQL and REST.

One store per backend for the whole session (the REST one is a live
``shipyard server`` on a loopback port), so contract tests never assume an
empty store: each makes uniquely named records and asserts only on its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from shipyard.entities import Experiment, Run
from shipyard.store.base import Store
from shipyard.store.sql.store import SqlStore


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "rest"],
)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    backend: str = request.param
    if backend == "sqlite":
        folder = tmp_path_factory.mktemp("store-sqlite")
        with SqlStore(f"sqlite:///{folder / 'shipyard.db'}") as sql_store:
            yield sql_store
    elif backend == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        with SqlStore(url) as sql_store:
            yield sql_store
    else:
        from shipyard.store.rest.store import RestStore
        from tests.support.live_server import live_server

        folder = tmp_path_factory.mktemp("store-rest")
        db_url = f"sqlite:///{folder / 'shipyard.db'}"
        with (
            live_server(db_url, str(folder / "artifacts")) as base_url,
            RestStore(base_url) as rest_store,
        ):
            yield rest_store


def unique(prefix: str = "exp") -> str:
    """A name no other test (nor an earlier session) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def experiment(store: Store) -> Experiment:
    return store.create_experiment(unique())


@pytest.fixture
def make_run(store: Store, experiment: Experiment) -> Callable[..., Run]:
    def make(**kwargs: object) -> Run:
        return store.create_run(experiment.id, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def run(make_run: Callable[..., Run]) -> Run:
    return make_run()
