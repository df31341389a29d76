"""Following an alias: the new version loads in the background and is swapped in
while clients keep sending; not one request fails, and each answer names its version."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
from prometheus_client.parser import text_string_to_metric_families

from shipyard.serving import ServeConfig, create_serving_app
from tests.serving.conftest import Registry
from tests.serving.support import serve_in_thread

CLIENTS = 4
MODEL = "digits-swap"


@dataclass
class Answer:
    client: int
    status: int
    version: str
    correct: bool
    during_load: bool


def _info(text: str) -> list[tuple[str, str]]:
    return [
        (sample.labels["version"], sample.labels["role"])
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "shipyard_serving_model_info"
    ]


def _counter(text: str, name: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    )


def test_alias_moves_are_followed_without_a_failed_request(registry: Registry) -> None:
    store: Any = registry.client.store
    store.set_model_alias(MODEL, "production", 1)
    config = ServeConfig(f"models:/{MODEL}@production", poll_interval=0.05, log_predictions=False)
    app = create_serving_app(config, client=registry.client)
    answers: list[Answer] = []
    lock = threading.Lock()
    warmed = threading.Event()  # every client has been answered by version 1
    swapped = threading.Event()  # some client has been answered by version 2
    enough = threading.Event()  # enough answers after the swap
    target = [10**9]
    stop = threading.Event()

    with serve_in_thread(app) as url:
        follower = app.state.follower

        def client(index: int) -> None:
            rng = np.random.default_rng(index)
            with httpx.Client(base_url=url, timeout=60) as http:
                while not stop.is_set():
                    x = registry.x[rng.integers(0, len(registry.x), size=2)]
                    response = http.post("/invocations", json={"instances": x.tolist()})
                    loading = follower.loading.is_set()
                    version = response.headers.get("shipyard-model-version", "")
                    correct = (
                        response.status_code == 200
                        and response.json()["predictions"]
                        == registry.expected(MODEL, int(version), x).tolist()
                    )
                    with lock:
                        answers.append(
                            Answer(index, response.status_code, version, correct, loading)
                        )
                        ones = {a.client for a in answers if a.version == "1"}
                        if len(ones) == CLIENTS:
                            warmed.set()
                        if len(answers) >= target[0]:
                            enough.set()
                    if version == "2":
                        swapped.set()

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        try:
            assert warmed.wait(60), "the clients got no answers from version 1"
            store.set_model_alias(MODEL, "production", 2)
            assert swapped.wait(60), "version 2 never answered"
            with lock:
                target[0] = len(answers) + 40
            assert enough.wait(60), "the clients stopped getting answers after the swap"
        finally:
            stop.set()
            for thread in threads:
                thread.join(30)

        metrics = httpx.get(f"{url}/metrics").text
        health = httpx.get(f"{url}/health").json()

    assert all(a.status == 200 for a in answers), [a for a in answers if a.status != 200][:3]
    assert all(a.correct for a in answers), "an answer did not match the version that gave it"
    assert {a.version for a in answers} == {"1", "2"}
    assert any(a.during_load for a in answers), "no request was answered during the load"
    for index in range(CLIENTS):
        mine = [a.version for a in answers if a.client == index]
        first_two = mine.index("2") if "2" in mine else len(mine)
        assert set(mine[first_two:]) <= {"2"}, f"client {index} went back to version 1"
    assert health["versions"] == {"primary": "2"}
    assert _info(metrics) == [("2", "primary")]
    assert _counter(metrics, "shipyard_serving_model_swaps_total") == 1


def test_a_version_that_fails_to_load_is_not_swapped_in(registry: Registry) -> None:
    store: Any = registry.client.store
    store.set_model_alias(MODEL, "candidate", 2)
    config = ServeConfig(f"models:/{MODEL}@candidate", poll_interval=0.05, log_predictions=False)
    app = create_serving_app(config, client=registry.client)
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as http:
        store.set_model_alias(MODEL, "candidate", 3)  # a pickle, and this server trusts none
        deadline = time.monotonic() + 60
        metrics = ""
        while time.monotonic() < deadline:
            metrics = http.get("/metrics").text
            if _counter(metrics, "shipyard_serving_model_swap_failures_total") >= 1:
                break
            time.sleep(0.05)
        assert _counter(metrics, "shipyard_serving_model_swap_failures_total") == 1
        response = http.post("/invocations", json={"instances": registry.x[:1].tolist()})
        assert response.status_code == 200
        assert response.headers["shipyard-model-version"] == "2"
        assert _info(metrics) == [("2", "primary")]
