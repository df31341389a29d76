"""Concurrent clients share model calls and each gets exactly its own answer; the
Prometheus metrics count what happened."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import numpy as np
from prometheus_client.parser import text_string_to_metric_families

from shipyard.serving import ServeConfig, create_serving_app
from tests.serving.conftest import Registry
from tests.serving.support import serve_in_thread

CLIENTS = 64
ROUNDS = 3


def _samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def _value(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for sample_name, sample_labels, value in _samples(text):
        if sample_name == name and all(sample_labels.get(k) == v for k, v in labels.items()):
            total += value
    return total


def _inputs(registry: Registry) -> list[np.ndarray[Any, Any]]:
    """Distinct inputs: digit images with noise, several rows for some clients."""
    rng = np.random.default_rng(7)
    return [
        registry.x[rng.integers(0, len(registry.x), size=1 + c % 3)]
        + rng.integers(0, 3, size=(1 + c % 3, 64))
        for c in range(CLIENTS)
    ]


def _hammer(url: str, model: str, inputs: list[np.ndarray[Any, Any]]) -> list[list[Any]]:
    """CLIENTS concurrent clients, each sending its own input ROUNDS times (V2 and
    /invocations in turn); each client's answers, in order."""

    async def client(http: httpx.AsyncClient, index: int) -> list[Any]:
        x = inputs[index]
        answers = []
        for round_ in range(ROUNDS):
            if round_ % 2 == 0:
                body = {
                    "id": f"c{index}-{round_}",
                    "inputs": [
                        {
                            "name": "input",
                            "datatype": "FP64",
                            "shape": list(x.shape),
                            "data": x.ravel().tolist(),
                        }
                    ],
                    "outputs": [{"name": "predictions"}],
                }
                response = await http.post(f"/v2/models/{model}/infer", json=body)
                assert response.status_code == 200, response.text
                assert response.json()["id"] == f"c{index}-{round_}"
                answers.append(response.json()["outputs"][0]["data"])
            else:
                response = await http.post("/invocations", json={"instances": x.tolist()})
                assert response.status_code == 200, response.text
                answers.append(response.json()["predictions"])
        return answers

    async def main() -> list[list[Any]]:
        limits = httpx.Limits(max_connections=CLIENTS)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as http:
            return await asyncio.gather(*(client(http, i) for i in range(CLIENTS)))

    return asyncio.run(main())


def test_concurrent_clients_get_exactly_their_own_predictions(registry: Registry, url: str) -> None:
    inputs = _inputs(registry)
    before = httpx.get(f"{url}/metrics").text
    results = _hammer(url, "digits", inputs)
    for x, answers in zip(inputs, results, strict=True):
        assert answers == [registry.expected("digits", 1, x).tolist()] * ROUNDS
    after = httpx.get(f"{url}/metrics").text
    labels = {"model": "digits", "version": "1"}
    requests = _value(after, "shipyard_serving_batch_size_sum", **labels) - _value(
        before, "shipyard_serving_batch_size_sum", **labels
    )
    assert requests == CLIENTS * ROUNDS


def test_requests_share_model_calls_while_the_model_is_busy(registry: Registry) -> None:
    """A model that takes milliseconds a call (a 60-tree forest): the clients' first
    requests, sent at once, and those that come while it works share calls."""
    config = ServeConfig("models:/digits-swap/2", log_predictions=False, poll_interval=0)
    app = create_serving_app(config, client=registry.client)
    inputs = _inputs(registry)
    with serve_in_thread(app) as url:
        results = _hammer(url, "digits-swap", inputs)
        text = httpx.get(f"{url}/metrics").text
    for x, answers in zip(inputs, results, strict=True):
        assert answers == [registry.expected("digits-swap", 2, x).tolist()] * ROUNDS
    labels = {"model": "digits-swap", "version": "2"}
    calls = _value(text, "shipyard_serving_batch_size_count", **labels)
    alone = _value(text, "shipyard_serving_batch_size_bucket", le="1.0", **labels)
    assert _value(text, "shipyard_serving_batch_size_sum", **labels) == CLIENTS * ROUNDS
    assert calls < CLIENTS * ROUNDS, f"{calls} model calls for {CLIENTS * ROUNDS} requests"
    assert calls - alone > 0, "the batch-size histogram shows no batch of more than one"
    assert _value(text, "shipyard_serving_batch_rows_sum", **labels) == ROUNDS * sum(
        len(x) for x in inputs
    )


def test_metrics_by_naming_practice(registry: Registry, url: str) -> None:
    x = registry.x[:2]
    body = {"inputs": [{"name": "input", "datatype": "FP64", "shape": [2, 64], "data": x.tolist()}]}
    assert httpx.post(f"{url}/v2/models/digits/infer", json=body).status_code == 200
    assert httpx.post(f"{url}/v2/models/digits/infer", json={"inputs": []}).status_code == 400
    response = httpx.get(f"{url}/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    infer = "/v2/models/{name}/infer"
    assert _value(text, "shipyard_serving_requests_total", endpoint=infer, status="200") >= 1
    assert (
        _value(
            text,
            "shipyard_serving_requests_total",
            model="digits",
            version="1",
            endpoint=infer,
            status="400",
        )
        >= 1
    )
    assert _value(text, "shipyard_serving_request_duration_seconds_count", endpoint=infer) >= 2
    assert _value(text, "shipyard_serving_inference_duration_seconds_count", version="1") >= 1
    assert _value(text, "shipyard_serving_batch_rows_sum", version="1") >= 2
    in_flight = [s for s in _samples(text) if s[0] == "shipyard_serving_in_flight_requests"]
    assert in_flight and in_flight[0][2] >= 1  # this scrape itself
    info = [s for s in _samples(text) if s[0] == "shipyard_serving_model_info"]
    assert [(s[1]["version"], s[1]["role"], s[1]["uri"], s[2]) for s in info] == [
        ("1", "primary", "models:/digits/1", 1.0)
    ]
    assert _value(text, "shipyard_serving_model_load_duration_seconds", version="1") > 0
    # Seconds and totals, no raw paths as label values.
    for name, labels, _ in _samples(text):
        if name.startswith("shipyard_serving_request"):
            assert "/v2/models/digits" not in labels.get("endpoint", ""), labels
