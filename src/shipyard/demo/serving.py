"""The released model in service: served over HTTP, sent traffic, told the true labels.

The production alias is served in this process (uvicorn in a thread, on a free
loopback port) exactly as ``shipyard serve models:/<name>@production`` would
serve it, prediction logging on. Two phases of traffic go to it over HTTP:
the held-out digits as they are, then the same digits through a brighter,
noisier camera (the drift the monitoring report should catch). After each
phase the true labels go back to the server's feedback endpoint, by the
request ids it answered with, so the logged predictions can be scored.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np
import numpy.typing as npt
import uvicorn

from shipyard.entities import now_ms
from shipyard.errors import ServiceUnavailableError
from shipyard.serving.state import REQUEST_ID_HEADER, VERSION_HEADER

if TYPE_CHECKING:
    from rich.table import Table

    from shipyard.tracking.client import Client

__all__ = [
    "Phase",
    "drifted",
    "live_rows",
    "send_feedback",
    "send_traffic",
    "serve",
    "traffic_table",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

BATCH_ROWS = 10
SINGLE_SHARE = 2 / 3  # of a phase's rows sent one per request; the rest in batches
_START_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class LiveServer:
    url: str
    name: str  # the name the server serves (and logs) the model under
    version: int | None  # the registry version the URI named when it started


@contextlib.contextmanager
def serve(model_uri: str, client: Client) -> Iterator[LiveServer]:
    """``model_uri`` served on a free loopback port in this process, predictions logged.

    Leaving the block stops the server, which stores the predictions its logger
    still holds before it returns.
    """
    import shipyard as sy
    from shipyard.serving import ServeConfig, create_serving_app

    named = sy.models.resolve(model_uri, client=client)  # what the alias names now
    # Polling off: the demo serves that version for the whole demo.
    app = create_serving_app(ServeConfig(model_uri, poll_interval=0), client=client)
    server = _ReadyServer(uvicorn.Config(app, log_config=None, access_log=False))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="shipyard-demo-server", daemon=True
    )
    thread.start()
    try:
        if not server.ready.wait(_START_TIMEOUT_S) or not server.started:
            raise ServiceUnavailableError(f"the model server for {model_uri} did not start")
        # A server is named after the registered model it serves.
        yield LiveServer(f"http://127.0.0.1:{port}", named.name or "model", named.version)
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


class _ReadyServer(uvicorn.Server):
    """A uvicorn server that says when its start-up is over, started or not."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self.ready.set()


@dataclass
class Phase:
    """One phase of traffic: what went out, what came back, and when."""

    title: str
    x: FloatArray
    y: IntArray
    request_ids: list[str] = field(default_factory=list)
    rows_of: list[int] = field(default_factory=list)  # rows of each request, in order
    latencies_ms: list[float] = field(default_factory=list)
    versions: set[str] = field(default_factory=set)  # the Shipyard-Model-Version headers
    predictions: list[int] = field(default_factory=list)
    start_ms: int = 0
    end_ms: int = 0

    @property
    def requests(self) -> int:
        return len(self.request_ids)

    @property
    def rows(self) -> int:
        return sum(self.rows_of)

    def latency(self, quantile: float) -> float:
        return float(np.percentile(self.latencies_ms, quantile)) if self.latencies_ms else 0.0

    @property
    def accuracy(self) -> float:
        """What the answers scored against the true labels (the client's view)."""
        return float(np.mean(np.asarray(self.predictions) == self.y)) if self.predictions else 0.0


def drifted(x: FloatArray, seed: int = 0) -> FloatArray:
    """The digits through a brighter, noisier camera: every pixel lifted and noised."""
    rng = np.random.default_rng(seed)
    return np.clip(x + rng.normal(0.3, 0.2, size=x.shape), 0.0, 1.0)


def _infer_body(rows: FloatArray) -> dict[str, Any]:
    tensor = {"name": "input", "datatype": "FP64", "shape": list(rows.shape)}
    return {"inputs": [{**tensor, "data": rows.ravel().tolist()}]}


def _predictions(answer: dict[str, Any]) -> list[int]:
    for output in answer["outputs"]:
        if output["name"] == "predictions":
            return [int(value) for value in output["data"]]
    raise ServiceUnavailableError("the model server answered without predictions")


def send_traffic(http: httpx.Client, name: str, title: str, x: FloatArray, y: IntArray) -> Phase:
    """Send ``x`` to the server's V2 infer endpoint: two thirds of the rows one per request,
    the rest in batches of ``BATCH_ROWS``; times each request from the client's side."""
    phase = Phase(title, x, y, start_ms=now_ms())
    singles = int(len(x) * SINGLE_SHARE)
    chunks = [(i, i + 1) for i in range(singles)]
    chunks += [(i, min(i + BATCH_ROWS, len(x))) for i in range(singles, len(x), BATCH_ROWS)]
    path = f"/v2/models/{name}/infer"
    for start, end in chunks:
        began = time.perf_counter()
        response = http.post(path, json=_infer_body(x[start:end]))
        phase.latencies_ms.append((time.perf_counter() - began) * 1000.0)
        if response.status_code != 200:
            raise ServiceUnavailableError(
                f"the model server answered {response.status_code}: {response.text[:200]}"
            )
        phase.request_ids.append(response.headers[REQUEST_ID_HEADER])
        phase.versions.add(response.headers.get(VERSION_HEADER, "?"))
        phase.rows_of.append(end - start)
        phase.predictions.extend(_predictions(response.json()))
    phase.end_ms = now_ms()
    return phase


def send_feedback(http: httpx.Client, name: str, phase: Phase) -> int:
    """POST the true labels of the phase's requests (a list for a batch); returns how many
    requests the server recorded labels for."""
    items: list[dict[str, Any]] = []
    at = 0
    for request_id, rows in zip(phase.request_ids, phase.rows_of, strict=True):
        labels = [int(label) for label in phase.y[at : at + rows]]
        items.append({"request_id": request_id, "label": labels[0] if rows == 1 else labels})
        at += rows
    response = http.post(f"/v2/models/{name}/feedback", json={"items": items})
    if response.status_code != 200:
        raise ServiceUnavailableError(
            f"the feedback endpoint answered {response.status_code}: {response.text[:200]}"
        )
    recorded: int = response.json()["recorded"]
    return recorded


@dataclass(frozen=True, slots=True)
class LoggedRows:
    """A phase's rows as the prediction logs hold them, labels joined from feedback."""

    rows: int
    labelled: int
    accuracy: float | None  # of the logged predictions against the joined labels


def live_rows(client: Client, name: str, version: int | None, phase: Phase) -> LoggedRows:
    """Read the phase's window back from the prediction logs, with its feedback."""
    from shipyard.monitoring.prediction_log import read_prediction_logs

    table = read_prediction_logs(
        client, name, phase.start_ms, phase.end_ms, version=version, with_feedback=True
    )
    labels = table.column("label").to_pylist() if table.num_rows else []
    predicted = table.column("prediction").to_pylist() if table.num_rows else []
    pairs = [(p, label) for p, label in zip(predicted, labels, strict=True) if label is not None]
    accuracy = sum(p == label for p, label in pairs) / len(pairs) if pairs else None
    return LoggedRows(table.num_rows, len(pairs), accuracy)


def traffic_table(server: LiveServer, phases: list[tuple[Phase, LoggedRows]]) -> Table:
    from rich.table import Table

    table = Table(title="live traffic (HTTP, Open Inference Protocol)", title_justify="left")
    for column in ("traffic", "requests", "rows", "p50 ms", "p99 ms", "answered by"):
        table.add_column(
            column, justify="left" if column in ("traffic", "answered by") else "right"
        )
    table.add_column("logged rows", justify="right")
    table.add_column("labelled", justify="right")
    table.add_column("live accuracy", justify="right")
    for phase, logged in phases:
        table.add_row(
            phase.title,
            str(phase.requests),
            str(phase.rows),
            f"{phase.latency(50):.1f}",
            f"{phase.latency(99):.1f}",
            ", ".join(f"{server.name}/{v}" for v in sorted(phase.versions)),
            f"{logged.rows}",
            f"{logged.labelled}",
            "-" if logged.accuracy is None else f"{logged.accuracy:.4f}",
        )
    return table
