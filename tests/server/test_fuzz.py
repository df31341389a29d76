"""No JSON body a client can send to the main routes makes the server answer 5xx."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server.conftest import create_run

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["NaN", "Infinity", "-Infinity", "..", "/etc/passwd", "", "RUNNING"]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "name",
        "tags",
        "experiment_id",
        "experiment_ids",
        "parent_run_id",
        "start_time",
        "status",
        "end_time",
        "metrics",
        "params",
        "entries",
        "filter",
        "order_by",
        "view",
        "max_results",
        "page_token",
        "key",
        "value",
    ]
)
bodies = json_values | st.dictionaries(field_names, json_values, max_size=5)
metric = st.fixed_dictionaries(
    {"key": st.text(max_size=10), "value": json_values},
    optional={"step": json_values, "timestamp": json_values},
)
batches = st.fixed_dictionaries(
    {},
    optional={
        "metrics": st.lists(metric, max_size=3),
        "params": st.lists(st.fixed_dictionaries({"key": json_values, "value": json_values})),
        "tags": json_values,
    },
)


@pytest.fixture(scope="module")
def fuzz_target(server_url: str) -> Iterator[tuple[httpx.Client, str]]:
    with httpx.Client(base_url=server_url, timeout=30) as client:
        yield client, create_run(client)["id"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies, batch=batches, route=st.integers(min_value=0, max_value=5))
def test_random_bodies_never_answer_5xx(
    fuzz_target: tuple[httpx.Client, str], body: object, batch: object, route: int
) -> None:
    client, run_id = fuzz_target
    targets = [
        ("POST", "/api/v1/experiments", body),
        ("POST", "/api/v1/runs", body),
        ("POST", "/api/v1/runs/search", body),
        ("PATCH", f"/api/v1/runs/{run_id}", body),
        ("POST", f"/api/v1/runs/{run_id}/log-batch", batch),
        ("POST", f"/api/v1/runs/{run_id}/artifacts", body),
    ]
    method, url, payload = targets[route]
    response = client.request(method, url, json=payload)
    assert response.status_code < 500, (method, url, payload, response.text)
    if response.status_code >= 400:
        assert set(response.json()) == {"error"}
