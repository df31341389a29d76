"""A real registry with real scikit-learn digits classifiers, and a real ``shipyard serve``.

Registered once per session in a temporary store:

- ``digits`` v1 (a depth-8 tree, alias ``production``) and v2 (a depth-3 tree,
  alias ``staging``): they disagree on many rows, so a test can tell which
  version answered by the predictions as well as by the header;
- ``digits-swap`` v1 and v2 (a random forest, slower to load) for the hot swap,
  and v3, a pickle, which an untrusting server refuses to swap in;
- ``digits-foreign``: v1's files under a manifest that says it was saved with
  scikit-learn 0.20, for the environment check.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

from shipyard.tracking.client import Client
from tests.serving.live import ServeProcess, started

MAX_BODY_BYTES = 1_000_000


@dataclass
class Registry:
    store: str
    home: str
    client: Client
    x: np.ndarray[Any, Any]
    models: dict[tuple[str, int], Any]
    foreign_run: str
    server: ServeProcess | None

    @property
    def env(self) -> dict[str, str]:
        """What a ``shipyard serve`` subprocess needs to reach this registry."""
        return {"SHIPYARD_URI": self.store, "SHIPYARD_HOME": self.home}

    def expected(self, name: str, version: int, x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        return np.asarray(self.models[(name, version)].predict(x))


def _log(
    client: Client, model: Any, x: np.ndarray[Any, Any], name: str, flavor: str | None = None
) -> str:
    with client.start_run(experiment="serving-tests", capture=False) as run:
        run.log_model(model, input_example=x[:3], registered_model_name=name, flavor=flavor)
        return run.id


SERVED_ARGS = [
    "models:/digits@production",
    "--max-body-bytes",
    str(MAX_BODY_BYTES),
    "--no-log-predictions",
    "--poll-interval",
    "0",
]


@pytest.fixture(scope="session")
def registry(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Registry]:
    root = tmp_path_factory.mktemp("serving-registry")
    store, home = str(root / "store"), str(root / "home")
    env = {"SHIPYARD_URI": store, "SHIPYARD_HOME": home}
    # The subprocess server boots (seconds of imports) while the other models are logged.
    needs_server = any("served" in item.fixturenames for item in request.session.items)
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(Client(store))
        with pytest.MonkeyPatch.context() as patch:  # the package cache, while logging
            patch.setenv("SHIPYARD_HOME", home)
            x, y = load_digits(return_X_y=True)
            deep = DecisionTreeClassifier(max_depth=8, random_state=0).fit(x, y)
            shallow = DecisionTreeClassifier(max_depth=3, random_state=0).fit(x, y)
            _log(client, deep, x, "digits")
            _log(client, shallow, x, "digits")
            registry_store: Any = client.store
            registry_store.set_model_alias("digits", "production", 1)
            registry_store.set_model_alias("digits", "staging", 2)
            server = stack.enter_context(started(SERVED_ARGS, env)) if needs_server else None

            forest = RandomForestClassifier(n_estimators=60, random_state=0, n_jobs=1).fit(x, y)
            _log(client, deep, x, "digits-swap")
            _log(client, forest, x, "digits-swap")
            # v3 is pickled (the python flavor): it loads only when trusted.
            _log(client, deep, x, "digits-swap", flavor="python")
            registry_store.set_model_alias("digits-swap", "production", 1)
            foreign_run = _foreign_package(client, deep, x)
        models = {
            ("digits", 1): deep,
            ("digits", 2): shallow,
            ("digits-swap", 1): deep,
            ("digits-swap", 2): forest,
        }
        yield Registry(store, home, client, x, models, foreign_run, server)


def _foreign_package(client: Client, model: Any, x: np.ndarray[Any, Any]) -> str:
    """A package as another machine would have saved it: the same files, and a manifest
    recording scikit-learn 0.20 (a major version apart from any installed today)."""
    with client.start_run(experiment="serving-tests", capture=False) as run:
        info = run.log_model(model, input_example=x[:3])
        manifest = dict(info.manifest)
        manifest["environment"] = {
            **manifest["environment"],
            "packages": {**manifest["environment"]["packages"], "scikit-learn": "0.20.4"},
        }
        manifest["artifact_path"] = "foreign"
        run.log_text(json.dumps(manifest), "foreign/shipyard-model.json")
        return run.id


@pytest.fixture(scope="session")
def served(registry: Registry) -> ServeProcess:
    """``shipyard serve models:/digits@production`` in a subprocess, for the whole session."""
    assert registry.server is not None
    registry.server.wait_ready()
    return registry.server


@pytest.fixture
def url(served: ServeProcess) -> str:
    return served.url


def assert_v2_error(response: Any, status: int, *needles: str) -> str:
    """An Open Inference Protocol error: ``{"error": "<message>"}`` naming the problem."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"], str), body
    for needle in needles:
        assert needle in body["error"], body["error"]
    return str(body["error"])


def assert_error(response: Any, status: int, code: str, *needles: str) -> str:
    """Shipyard's error shape: ``{"error": {"code", "message"}}``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    message = str(body["error"]["message"])
    for needle in needles:
        assert needle in message, message
    return message
