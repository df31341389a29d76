"""Small real numpy models implementing the Predictor protocol (for the batcher's unit
tests), and a uvicorn server in a thread.

The server tests serve real logged scikit-learn packages instead (conftest.py).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import uvicorn
from fastapi import FastAPI

from shipyard.errors import SignatureError
from shipyard.models.signature import Signature, TensorSpec


class LinearClassifier:
    """argmax(x @ weights): a classifier over ``features`` float64 inputs."""

    flavor = "numpy"
    model_name: str | None = "linear"
    run_id: str | None = None

    def __init__(self, features: int = 4, classes: int = 3, seed: int = 0, version: int = 1):
        rng = np.random.default_rng(seed)
        self.weights = rng.normal(size=(features, classes))
        self.features = features
        self.model_version: int | None = version
        self.uri = f"models:/linear/{version}"
        self.signature = Signature(
            "tensor",
            (TensorSpec("input", "float64", (-1, features)),),
            (
                TensorSpec("predictions", "int64", (-1,)),
                TensorSpec("probabilities", "float64", (-1, classes)),
            ),
        )
        self.calls: list[int] = []  # rows per model call, in call order
        self.call_seconds = 0.0  # a per-call cost, as a real model's fixed overhead

    @property
    def input_example(self) -> Any:
        return np.zeros((2, self.features))

    @property
    def has_predict_proba(self) -> bool:
        return True

    def prepare(self, data: Any) -> np.ndarray[Any, Any]:
        if isinstance(data, pd.DataFrame):
            data = data.to_numpy()
        array = np.asarray(data)
        if array.dtype.kind not in "biuf":
            raise SignatureError(f"input must be float64 numbers, got {array.dtype}")
        if array.ndim != 2 or array.shape[1] != self.features:
            raise SignatureError(
                f"input must have shape [-1, {self.features}], got {list(array.shape)}"
            )
        return array.astype(np.float64)

    def _scores(self, prepared: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        self.calls.append(len(prepared))
        if self.call_seconds:
            time.sleep(self.call_seconds)
        return prepared @ self.weights

    def predict_prepared(self, prepared: Any) -> np.ndarray[Any, Any]:
        return np.argmax(self._scores(prepared), axis=1).astype(np.int64)

    def predict_proba_prepared(self, prepared: Any) -> np.ndarray[Any, Any]:
        scores = self._scores(prepared)
        exp = np.exp(scores - scores.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, data: Any) -> np.ndarray[Any, Any]:
        return self.predict_prepared(self.prepare(data))

    def predict_proba(self, data: Any) -> np.ndarray[Any, Any]:
        return self.predict_proba_prepared(self.prepare(data))

    def expected(self, x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        return np.argmax(np.asarray(x, dtype=np.float64) @ self.weights, axis=1)


class TextScorer:
    """A columns model: score = len(city) * 10 + age, for BYTES and INT64 columns."""

    flavor = "numpy"
    model_name: str | None = "scorer"
    model_version: int | None = 1
    run_id: str | None = None
    uri = "models:/scorer/1"
    signature = Signature(
        "columns",
        (TensorSpec("city", "str"), TensorSpec("age", "int64")),
        (TensorSpec("predictions", "float64"),),
    )

    @property
    def input_example(self) -> Any:
        return {"city": ["Oslo"], "age": [30]}

    @property
    def has_predict_proba(self) -> bool:
        return False

    def prepare(self, data: Any) -> pd.DataFrame:
        frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
        for name in ("city", "age"):
            if name not in frame.columns:
                raise SignatureError(f"missing column {name!r}")
        if frame["age"].dtype.kind not in "iu":
            raise SignatureError(f"column 'age' must be int64, got {frame['age'].dtype}")
        return frame[["city", "age"]].reset_index(drop=True)

    def predict_prepared(self, prepared: Any) -> np.ndarray[Any, Any]:
        lengths = prepared["city"].map(len).to_numpy()
        return (lengths * 10 + prepared["age"].to_numpy()).astype(np.float64)

    def predict_proba_prepared(self, prepared: Any) -> np.ndarray[Any, Any]:
        raise NotImplementedError

    def predict(self, data: Any) -> np.ndarray[Any, Any]:
        return self.predict_prepared(self.prepare(data))

    def predict_proba(self, data: Any) -> np.ndarray[Any, Any]:
        raise NotImplementedError


@contextlib.contextmanager
def serve_in_thread(app: FastAPI) -> Iterator[str]:
    """``app`` under uvicorn on a loopback port, in this process; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
