"""A real digits registry for the monitoring tests: dataset versions, a trained model, its
promotion evaluation; traffic sent to a real ``shipyard serve``; a webhook receiver.

The model's run read two dataset versions, ``digits-test`` and ``digits-train``
(inputs are listed by name, so the test set comes first): the default reference
must still be the training set.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.tree import DecisionTreeClassifier

import shipyard as sy
from shipyard.entities import now_ms
from shipyard.evaluation.gate import promote
from shipyard.monitoring.prediction_log import PredictionLogger
from shipyard.tracking.client import Client

PIXELS = [f"pixel_{i}" for i in range(64)]
TARGET = "target"
ROWS_PER_REQUEST = 10

Array = np.ndarray[Any, Any]


@dataclass(frozen=True)
class Digits:
    x_train: Array
    y_train: Array
    x_test: Array
    y_test: Array


def digits() -> Digits:
    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(x))
    train, test = order[:1400], order[1400:]
    return Digits(x[train], y[train], x[test], y[test])


def drifted(x: Array, seed: int = 1) -> Array:
    """Digits seen through a noisy, brighter camera: every pixel shifted and noised."""
    rng = np.random.default_rng(seed)
    return np.clip(x + rng.normal(4.0, 3.0, size=x.shape), 0.0, 16.0)


def table(x: Array, y: Array) -> pd.DataFrame:
    frame = pd.DataFrame(x.astype(np.int64), columns=PIXELS)
    frame[TARGET] = y
    return frame


def build_registry(client: Client, data: Digits, name: str = "digits") -> Any:
    """Datasets, a run that read both, the model registered as version 1, promoted to
    ``production`` on the test set (the promotion's evaluation is the quality baseline)."""
    sy.data.log_table(table(data.x_train, data.y_train), f"{name}-train", client=client)
    sy.data.log_table(table(data.x_test, data.y_test), f"{name}-test", client=client)
    with client.start_run(experiment="monitoring-tests", capture=False) as run:
        train = sy.data.load_table(f"datasets:/{name}-train/1", client=client)
        sy.data.load_table(f"datasets:/{name}-test/1", client=client)
        model = DecisionTreeClassifier(max_depth=10, random_state=0)
        model.fit(train[PIXELS].to_numpy(np.float64), train[TARGET].to_numpy())
        run.log_model(model, input_example=data.x_train[:3], registered_model_name=name)
    decision = promote(
        f"models:/{name}/1",
        "production",
        data=f"datasets:/{name}-test/1",
        target=TARGET,
        metric="accuracy",
        client=client,
    )
    assert decision.promoted, decision.reason
    return model


def log_rows(
    client: Client,
    name: str,
    model: Any,
    x: Array,
    prefix: str,
    *,
    version: int = 1,
    start_ms: int | None = None,
) -> list[str]:
    """Log predictions as a server would (one request per row), straight into the store."""
    at = now_ms() if start_ms is None else start_ms
    ids = [f"{prefix}-{i}" for i in range(len(x))]
    with PredictionLogger(client, name, flush_seconds=60) as logger:
        for i, request_id in enumerate(ids):
            row = x[i : i + 1].astype(np.float64)
            logger.submit(
                request_id,
                at + i,
                version,
                "/invocations",
                row,
                np.asarray(model.predict(row)),
                1.0,
                probabilities=np.asarray(model.predict_proba(row)),
            )
        assert logger.flush(30)
    return ids


@dataclass
class Phase:
    """Requests sent to the server: their ids, rows (and labels), and when they went."""

    name: str
    request_ids: list[str] = field(default_factory=list)
    rows: int = 0
    start_ms: int = 0
    end_ms: int = 0


def send_phase(url: str, name: str, x: Array, *, v2: bool = False) -> Phase:
    """``x`` in requests of 10 rows: V2 infer (answering, and logging, class probabilities
    too) or ``/invocations`` (predictions only)."""
    phase = Phase(name, start_ms=now_ms())
    with httpx.Client(base_url=url, timeout=30) as http:
        for start in range(0, len(x), ROWS_PER_REQUEST):
            rows = x[start : start + ROWS_PER_REQUEST]
            request_id = f"{name}-{start // ROWS_PER_REQUEST}"
            if v2:
                tensor = {"name": "input", "datatype": "FP64", "shape": list(rows.shape)}
                body = {"id": request_id, "inputs": [{**tensor, "data": rows.tolist()}]}
                response = http.post("/v2/models/digits/infer", json=body)
            else:
                response = http.post(
                    "/invocations",
                    json={"instances": rows.tolist()},
                    headers={"X-Request-ID": request_id},
                )
            assert response.status_code == 200, response.text
            assert response.headers["x-request-id"] == request_id
            phase.request_ids.append(request_id)
            phase.rows += len(rows)
    phase.end_ms = now_ms()
    return phase


def wait_logged(client: Client, name: str, rows: int, timeout: float = 60.0) -> None:
    """Until the server's logger has stored ``rows`` rows of ``name`` (it flushes every 5 s)."""
    deadline = time.monotonic() + timeout
    while True:
        stored = sum(b.row_count for b in client.store.list_prediction_log_batches(name))
        if stored >= rows:
            return
        assert time.monotonic() < deadline, f"{stored} of {rows} rows logged after {timeout} s"
        time.sleep(0.2)


@dataclass
class Receiver:
    """A real HTTP server on loopback that records the JSON bodies POSTed to it."""

    url: str
    posts: list[dict[str, Any]]
    statuses: list[int]  # answers to give, in order; then 200
    arrived: threading.Condition

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.posts) >= count, timeout)
            return list(self.posts)


@contextmanager
def webhook_receiver(statuses: list[int] | None = None) -> Iterator[Receiver]:
    posts: list[dict[str, Any]] = []
    arrived = threading.Condition()
    answers = list(statuses or [])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with arrived:
                status = answers.pop(0) if answers else 200
                if status == 200:
                    posts.append(json.loads(body))
                    arrived.notify_all()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook", posts, answers, arrived)
    finally:
        server.shutdown()
        server.server_close()
