"""The columnar form of ``log-batch``: ``{"metrics": {"keys", "values", "steps", ...}}``."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shipyard.entities import Metric, Param, Tag
from shipyard.errors import InvalidInputError
from shipyard.store.rest.store import RestStore
from shipyard.validation import MAX_BATCH_METRICS
from tests.server.conftest import assert_error, create_run, unique


def _log(client: httpx.Client, run_id: str, body: object, key: str | None = None) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(f"/api/v1/runs/{run_id}/log-batch", json=body, headers=headers)


def _history(client: httpx.Client, run_id: str, key: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/runs/{run_id}/metrics/history", params={"key": key})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_columns_round_trip_with_non_finite_values(client: httpx.Client) -> None:
    run = create_run(client)
    columns = {
        "keys": ["loss", "loss", "loss", "loss", "acc"],
        "values": [0.5, "NaN", "Infinity", "-Infinity", 1],
        "steps": [0, 1, 2, 3, 0],
        "timestamps": [10, 11, 12, 13, 14],
    }
    assert _log(client, run["id"], {"metrics": columns}).status_code == 204
    loss = _history(client, run["id"], "loss")
    assert loss["steps"] == [0, 1, 2, 3]
    assert loss["timestamps"] == [10, 11, 12, 13]
    assert loss["values"] == [0.5, "NaN", "Infinity", "-Infinity"]
    latest = client.get(f"/api/v1/runs/{run['id']}").json()["metrics"]
    assert latest["loss"] == {"key": "loss", "value": "-Infinity", "step": 3, "timestamp": 13}
    assert latest["acc"]["value"] == 1.0


def test_steps_and_timestamps_may_be_left_out(client: httpx.Client) -> None:
    run = create_run(client)
    body = {"metrics": {"keys": ["a", "b"], "values": [1.0, 2.0]}}
    assert _log(client, run["id"], body).status_code == 204
    history = _history(client, run["id"], "a")
    assert history["steps"] == [0]
    assert history["timestamps"][0] >= run["start_time"]


def test_empty_columns_store_nothing(client: httpx.Client) -> None:
    run = create_run(client)
    body: dict[str, dict[str, list[object]]] = {
        "metrics": {"keys": [], "values": [], "steps": [], "timestamps": []}
    }
    assert _log(client, run["id"], body).status_code == 204
    assert client.get(f"/api/v1/runs/{run['id']}").json()["metrics"] == {}


def test_columns_with_params_and_tags_are_one_batch(client: httpx.Client) -> None:
    run = create_run(client)
    body = {
        "metrics": {"keys": ["m"], "values": [3.0], "steps": [7], "timestamps": [1]},
        "params": [{"key": "lr", "value": "0.1"}],
        "tags": [{"key": "team", "value": "a"}],
    }
    assert _log(client, run["id"], body).status_code == 204
    stored = client.get(f"/api/v1/runs/{run['id']}").json()
    assert stored["params"] == {"lr": "0.1"}
    assert stored["tags"]["team"] == "a"
    assert stored["metrics"]["m"]["step"] == 7
    # A conflicting param refuses the whole batch, its metric points included.
    conflicting = {**body, "params": [{"key": "lr", "value": "0.2"}]}
    conflicting["metrics"] = {"keys": ["other"], "values": [1.0], "steps": [0], "timestamps": [1]}
    assert_error(_log(client, run["id"], conflicting), 409, "CONFLICT")
    assert "other" not in client.get(f"/api/v1/runs/{run['id']}").json()["metrics"]


def test_a_retried_column_batch_is_stored_once(client: httpx.Client) -> None:
    run = create_run(client)
    body = {"metrics": {"keys": ["m"] * 3, "values": [1.0, 2.0, 3.0], "steps": [0, 1, 2]}}
    for _ in range(2):
        assert _log(client, run["id"], body, key=unique("batch")).status_code == 204
    key = unique("batch")
    for _ in range(3):
        assert _log(client, run["id"], body, key=key).status_code == 204
    assert _history(client, run["id"], "m")["steps"] == [0, 0, 0, 1, 1, 1, 2, 2, 2]


@pytest.mark.parametrize(
    ("columns", "field"),
    [
        ({"keys": ["a", "b"], "values": [1.0]}, "values has 1 items but keys has 2"),
        ({"keys": ["a"], "values": [1.0], "steps": [0, 1]}, "steps has 2 items"),
        ({"keys": ["a"], "values": [1.0], "timestamps": []}, "timestamps has 0 items"),
    ],
)
def test_columns_of_different_lengths_are_400_naming_the_field(
    client: httpx.Client, columns: dict[str, object], field: str
) -> None:
    run = create_run(client)
    message = assert_error(_log(client, run["id"], {"metrics": columns}), 400, "INVALID_INPUT")
    assert "metrics" in message and field in message


@pytest.mark.parametrize(
    ("columns", "field"),
    [
        ({"keys": ["a"], "values": ["abc"]}, "values[0]"),
        ({"keys": ["a", "b"], "values": [1.0, True]}, "values[1]"),
        ({"keys": ["a"], "values": [None]}, "values[0]"),
        ({"keys": ["a"], "values": [{"x": 1}]}, "values[0]"),
        ({"keys": ["a"], "values": [10**400]}, "values[0]"),
        ({"keys": [1], "values": [1.0]}, "metrics.keys[0]"),
        ({"keys": ["a"], "values": [1.0], "steps": [1.5]}, "metrics.steps[0]"),
        ({"keys": ["a"], "values": [1.0], "steps": ["3"]}, "metrics.steps[0]"),
        ({"keys": ["a"], "values": [1.0], "timestamps": [True]}, "metrics.timestamps[0]"),
        ({"keys": "a", "values": [1.0]}, "metrics.keys"),
        ({"keys": ["a"], "values": 1.0}, "metrics.values"),
        ({"values": [1.0]}, "metrics.keys"),
        ({"keys": ["a"]}, "metrics.values"),
    ],
)
def test_wrong_types_in_columns_are_400_naming_the_field(
    client: httpx.Client, columns: dict[str, object], field: str
) -> None:
    run = create_run(client)
    message = assert_error(_log(client, run["id"], {"metrics": columns}), 400, "INVALID_INPUT")
    assert field in message


@pytest.mark.parametrize(
    ("columns", "words"),
    [
        ({"keys": ["bad key!"], "values": [1.0]}, "bad key!"),
        ({"keys": [""], "values": [1.0]}, "must not be empty"),
        ({"keys": ["a"], "values": [1.0], "timestamps": [-1]}, "timestamp -1"),
        ({"keys": ["a"], "values": [1.0], "steps": [2**63]}, "64-bit"),
    ],
)
def test_content_the_store_refuses_is_400(
    client: httpx.Client, columns: dict[str, object], words: str
) -> None:
    run = create_run(client)
    message = assert_error(_log(client, run["id"], {"metrics": columns}), 400, "INVALID_INPUT")
    assert words in message


def test_the_point_limit_holds_for_columns(client: httpx.Client) -> None:
    run = create_run(client)
    count = MAX_BATCH_METRICS + 1
    body = {"metrics": {"keys": ["m"] * count, "values": [1.0] * count}}
    message = assert_error(_log(client, run["id"], body), 400, "INVALID_INPUT")
    assert "metrics.keys" in message
    full = {"metrics": {"keys": ["m"] * MAX_BATCH_METRICS, "values": [1.0] * MAX_BATCH_METRICS}}
    assert _log(client, run["id"], full).status_code == 204


def test_openapi_documents_both_forms(client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    forms = schemas["LogBatchBody"]["properties"]["metrics"]["anyOf"]
    assert {"$ref": "#/components/schemas/MetricColumns"} in forms
    assert any(form.get("type") == "array" for form in forms)
    columns = schemas["MetricColumns"]
    assert set(columns["properties"]) == {"keys", "values", "steps", "timestamps"}
    assert set(columns["required"]) == {"keys", "values"}
    value_types = columns["properties"]["values"]["items"]["anyOf"]
    assert {"type": "string", "enum": ["NaN", "Infinity", "-Infinity"]} in value_types


# -- RestStore sends the columnar form -------------------------------------------
def test_rest_store_round_trips_non_finite_values(server_url: str) -> None:
    with RestStore(server_url) as store:
        run = store.create_run(store.create_experiment(unique()).id)
        values = [0.25, math.nan, math.inf, -math.inf, 1e308, -0.0, 5e-324]
        steps = list(range(len(values)))
        store.log_metric_columns(run.id, ["v"] * len(values), values, steps, [7] * len(values))
        store.log_batch(
            run.id,
            metrics=[Metric("w", math.nan, 0, 1), Metric("w", 2, 1, 1)],
            params=[Param("p", "x")],
            tags=[Tag("t", "y")],
        )
        history = store.get_metric_history(run.id, "v")
        got = [point.value for point in history]
        assert math.isnan(got[1]) and got[2] == math.inf and got[3] == -math.inf
        assert [got[0], *got[4:]] == [0.25, 1e308, -0.0, 5e-324]
        assert [point.step for point in history] == steps
        w = store.get_metric_history(run.id, "w")
        assert math.isnan(w[0].value) and w[1].value == 2.0
        stored = store.get_run(run.id)
        assert stored.params == {"p": "x"} and stored.tags["t"] == "y"


def test_rest_store_refuses_bad_columns_locally_and_remotely(server_url: str) -> None:
    with RestStore(server_url) as store:
        run = store.create_run(store.create_experiment(unique()).id)
        with pytest.raises(InvalidInputError, match="NaN"):  # a string is not a value
            store.log_metric_columns(run.id, ["m"], ["NaN"], [0], [1])  # type: ignore[list-item]
        with pytest.raises(InvalidInputError, match="one length"):
            store.log_metric_columns(run.id, ["m", "n"], [1.0], [0], [1])
        with pytest.raises(InvalidInputError, match="bad key!"):
            store.log_metric_columns(run.id, ["bad key!"], [1.0], [0], [1])
        with pytest.raises(InvalidInputError, match="steps"):
            store.log_metric_columns(run.id, ["m"], [1.0], [0.5], [1])  # type: ignore[list-item]
        with pytest.raises(InvalidInputError):
            store.log_batch(run.id, metrics=[Metric("m", "1.0", 0, 1)])  # type: ignore[arg-type]
        assert store.get_run(run.id).metrics == {}


# -- no body breaks the server ----------------------------------------------------
json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["NaN", "Infinity", "-Infinity", "m", ""])
)
column = st.lists(json_leaf, max_size=4) | json_leaf
column_bodies = st.fixed_dictionaries(
    {},
    optional={
        "keys": column,
        "values": column,
        "steps": column,
        "timestamps": column,
        "extra": json_leaf,
    },
)


@pytest.fixture(scope="module")
def fuzz_target(server_url: str) -> Iterator[tuple[httpx.Client, str]]:
    with httpx.Client(base_url=server_url, timeout=30) as http:
        yield http, create_run(http)["id"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(columns=column_bodies)
def test_random_columns_never_answer_5xx(
    fuzz_target: tuple[httpx.Client, str], columns: dict[str, object]
) -> None:
    client, run_id = fuzz_target
    response = _log(client, run_id, {"metrics": columns})
    assert response.status_code in (204, 400), response.text
    if response.status_code == 400:
        assert_error(response, 400, "INVALID_INPUT")
