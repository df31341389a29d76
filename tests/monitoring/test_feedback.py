"""Feedback: labels sent by request id through the Python API, the model server's route and a
Shipyard server, stored once, joined to the logged predictions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi import FastAPI

from shipyard.errors import InvalidInputError
from shipyard.monitoring.feedback import (
    create_feedback_router,
    log_feedback,
    parse_feedback_body,
    record_feedback,
)
from shipyard.monitoring.prediction_log import PredictionLogger, read_prediction_logs
from shipyard.tracking.client import Client
from tests.serving.support import serve_in_thread
from tests.support.live_server import live_server


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    with Client(str(tmp_path / "store")) as c:
        yield c


def _log(client: Client, model: str, request_ids: list[str]) -> None:
    with PredictionLogger(client, model, flush_seconds=60) as logger:
        for i, rid in enumerate(request_ids):
            x = np.array([[float(i), 1.0]])
            logger.submit(rid, 1000 + i, 1, "/invocations", x, np.array([i % 2]), 1.0)
        assert logger.flush()


def test_the_python_api_records_labels(client: Client) -> None:
    _log(client, "digits", ["a", "b", "c"])
    log_feedback("a", 0, model_name="digits", client=client)
    log_feedback("b", 0, client=client)  # a label for request "b" of any model
    assert read_prediction_logs(client, "digits").column("label").to_pylist() == [0, 0, None]
    with pytest.raises(InvalidInputError, match="null"):
        log_feedback("c", None, model_name="digits", client=client)


def test_the_default_client_follows_shipyard_uri(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPYARD_URI", str(tmp_path / "env-store"))
    log_feedback("req-1", "cat", model_name="pets")
    with Client(str(tmp_path / "env-store")) as c:
        [found] = c.store.get_feedback("pets", ["req-1"])
    assert found.label == "cat"


@pytest.fixture
def model_server(client: Client) -> Iterator[str]:
    """A model server's app with the feedback route for the model it serves."""
    app = FastAPI()
    app.include_router(create_feedback_router(client, ["digits"]))
    with serve_in_thread(app) as url:
        yield url


def test_the_server_route_takes_one_item_a_list_or_items(client: Client, model_server: str) -> None:
    _log(client, "digits", ["r0", "r1", "r2", "r3"])
    url = f"{model_server}/v2/models/digits/feedback"
    one = httpx.post(url, json={"request_id": "r0", "label": 0})
    many = httpx.post(
        url, json=[{"request_id": "r1", "label": 1}, {"request_id": "r2", "label": 1}]
    )
    items = httpx.post(url, json={"items": [{"request_id": "r3", "label": 0}]})
    assert [r.status_code for r in (one, many, items)] == [200, 200, 200]
    assert [r.json() for r in (one, many, items)] == [
        {"recorded": 1},
        {"recorded": 2},
        {"recorded": 1},
    ]
    table = read_prediction_logs(client, "digits")
    assert table.column("label").to_pylist() == [0, 1, 1, 0]
    assert table.column("prediction").to_pylist() == [0, 1, 0, 1]


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"not json", 400, "JSON"),
        (b'{"request_id": "r"}', 400, "request_id and label"),
        (b'{"request_id": "r", "label": null}', 400, "null"),
        (b'{"request_id": "r", "label": 1, "extra": 2}', 400, "unknown fields"),
        (b'{"request_id": "has space", "label": 1}', 400, "request id"),
        (b'[{"request_id": 5, "label": 1}]', 400, "request id"),
    ],
)
def test_bad_feedback_bodies_answer_400_json(
    model_server: str, body: bytes, status: int, fragment: str
) -> None:
    answer = httpx.post(
        f"{model_server}/v2/models/digits/feedback",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == status
    error = answer.json()["error"]
    assert error["code"] == "INVALID_INPUT"
    assert fragment in error["message"]


def test_a_model_not_served_answers_404(model_server: str) -> None:
    answer = httpx.post(
        f"{model_server}/v2/models/other/feedback", json={"request_id": "r", "label": 1}
    )
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "NOT_FOUND"


def test_an_oversized_feedback_body_answers_413(model_server: str) -> None:
    from shipyard.monitoring.feedback import MAX_BODY_BYTES

    answer = httpx.post(
        f"{model_server}/v2/models/digits/feedback",
        content=b"[" + b" " * MAX_BODY_BYTES + b"]",
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_served_names_may_change(client: Client) -> None:
    names = {"a"}
    app = FastAPI()
    app.include_router(create_feedback_router(client, lambda: names))
    with serve_in_thread(app) as url:
        body = {"request_id": "r", "label": 1}
        assert httpx.post(f"{url}/v2/models/b/feedback", json=body).status_code == 404
        names.add("b")
        assert httpx.post(f"{url}/v2/models/b/feedback", json=body).status_code == 200


def test_feedback_through_a_shipyard_server_joins_logs_written_through_it(
    tmp_path: Path,
) -> None:
    with (
        live_server(f"sqlite:///{tmp_path / 'db.sqlite'}", str(tmp_path / "blobs")) as url,
        Client(url) as remote,
    ):
        _log(remote, "digits", ["x", "y"])
        assert record_feedback(remote, "digits", [("x", 1), ("y", 0)]) == 2
        table = read_prediction_logs(remote, "digits")
        assert table.column("label").to_pylist() == [1, 0]
        [batch] = remote.store.list_prediction_log_batches("digits")
        assert batch.digest in remote.store.referenced_digests()


def test_parse_feedback_body_limits() -> None:
    assert parse_feedback_body(b'{"request_id": "a", "label": [1, 2]}') == [("a", [1, 2])]
    too_many = b"[" + b",".join([b'{"request_id": "a", "label": 1}'] * 10_001) + b"]"
    with pytest.raises(InvalidInputError, match="limit"):
        parse_feedback_body(too_many)
