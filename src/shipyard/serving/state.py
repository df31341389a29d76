"""What every route of a model server shares: the router, the metrics, the logger,
and the request plumbing (bounded body reading, request ids, error answers).

Errors take two shapes: the Open Inference Protocol's ``{"error": "..."}`` under
``/v2``, and Shipyard's ``{"error": {"code", "message"}}`` everywhere else.
"""

from __future__ import annotations

import logging
import time
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import Request, Response

from shipyard.errors import InvalidInputError, NotFoundError, PayloadTooLargeError, ShipyardError
from shipyard.serving.batcher import BatchResult
from shipyard.serving.deployment import Deployment, Router
from shipyard.serving.logging_hook import PredictionSink
from shipyard.serving.metrics import ServingMetrics

__all__ = [
    "REQUEST_ID_HEADER",
    "VERSION_HEADER",
    "ServingState",
    "error_response",
    "read_body",
    "serving_state",
]

log = logging.getLogger("shipyard.serving")

VERSION_HEADER = "Shipyard-Model-Version"
REQUEST_ID_HEADER = "X-Request-ID"
V2_PREFIX = "/v2"
_MAX_REQUEST_ID = 200
# How much of a refused body is read and dropped (see read_body).
_DRAIN_LIMIT = 32 * 1024 * 1024


@dataclass
class ServingState:
    name: str
    router: Router
    metrics: ServingMetrics
    max_body_bytes: int
    prediction_log: PredictionSink | None = None

    def check_name(self, name: str) -> None:
        if name != self.name:
            raise NotFoundError(
                f"model {name!r} is not served here; this server serves {self.name!r}"
            )

    def deployment(self, version: str | None) -> Deployment:
        """The deployment for a request: the router's pick, or the version asked for."""
        if version is None:
            return self.router.pick()
        found = self.router.by_version(version)
        if found is None:
            loaded = ", ".join(d.label for d in self.router.deployments())
            raise NotFoundError(
                f"version {version!r} of model {self.name!r} is not loaded here (loaded: {loaded})"
            )
        return found

    def log_prediction(
        self,
        request_id: str,
        started_ms: int,
        deployment: Deployment,
        endpoint: str,
        inputs: Any,
        result: BatchResult,
        latency_ms: float,
    ) -> None:
        """Hand an answered request to the prediction logger (it samples and queues)."""
        sink = self.prediction_log
        if sink is None:
            return
        outputs = result.predictions if result.predictions is not None else result.probabilities
        if outputs is None:
            return
        try:
            sink.submit(
                request_id,
                started_ms,
                deployment.version,
                endpoint,
                inputs,
                outputs,
                latency_ms,
                probabilities=result.probabilities if result.predictions is not None else None,
            )
        except Exception:  # the contract says it never raises; an answer must not depend on it
            log.exception("the prediction logger raised")


def serving_state(request: Request) -> ServingState:
    state: ServingState = request.app.state.serving
    return state


def request_id(request: Request, given: str | None = None) -> str:
    """The client's ``X-Request-ID`` header, else the request's own id, else a new one."""
    header = request.headers.get(REQUEST_ID_HEADER)
    for candidate in (header, given):
        if candidate and len(candidate) <= _MAX_REQUEST_ID and candidate.isprintable():
            return candidate
    return uuid.uuid4().hex


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def error_response(
    request: Request, exc: ShipyardError, headers: dict[str, str] | None = None
) -> Response:
    if exc.http_status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc.message)
    if request.url.path.startswith(V2_PREFIX):
        body = orjson.dumps({"error": exc.message})
    else:
        body = orjson.dumps(exc.to_payload())
    return Response(body, exc.http_status, headers=headers, media_type="application/json")


def _too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"request body is larger than the limit of {limit} bytes (see --max-body-bytes)"
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The body, decompressed (gzip, deflate), refused past ``limit`` bytes either way."""
    declared = request.headers.get("content-length")
    refused = declared is not None and declared.isdigit() and int(declared) > limit
    chunks: list[bytes] = []
    size = 0
    # One pass over the stream (Starlette's can be read once): past the limit, the rest
    # is read and dropped, up to a bound, so the client that is still sending reads the
    # answer instead of a reset connection.
    async for chunk in request.stream():
        size += len(chunk)
        if refused or size > limit:
            refused = True
            chunks.clear()
            if size - limit > _DRAIN_LIMIT:
                break
            continue
        chunks.append(chunk)
    if refused:
        raise _too_large(limit)
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise InvalidInputError(
            f"content encoding {encoding!r} is not supported: use gzip or deflate"
        )
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    decompressor = zlib.decompressobj(wbits)
    try:
        out = decompressor.decompress(body, limit + 1)
    except zlib.error as exc:
        raise InvalidInputError(f"the {encoding} body does not decompress: {exc}") from None
    if len(out) > limit or decompressor.unconsumed_tail:
        raise _too_large(limit)
    return out
