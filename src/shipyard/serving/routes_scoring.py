"""MLflow-style scoring (``POST /invocations``) and the plain health routes."""

from __future__ import annotations

import time

import orjson
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from shipyard._version import __version__
from shipyard.errors import ShipyardError
from shipyard.serving.scoring import encode_predictions, parse_invocation
from shipyard.serving.state import (
    REQUEST_ID_HEADER,
    VERSION_HEADER,
    error_response,
    now_ms,
    read_body,
    request_id,
    serving_state,
)

__all__ = ["router"]

_INLINE_BODY_BYTES = 256 * 1024

router = APIRouter(tags=["scoring"])


@router.post("/invocations", summary="Predict (MLflow scoring protocol)")
async def invocations(request: Request) -> Response:
    started = time.perf_counter()
    started_ms = now_ms()
    state = serving_state(request)
    rid = request_id(request)
    headers = {REQUEST_ID_HEADER: rid}
    try:
        deployment = state.deployment(None)
        headers[VERSION_HEADER] = deployment.label
        model = deployment.model
        content_type = request.headers.get("content-type")
        with deployment.batcher.arriving():
            body = await read_body(request, state.max_body_bytes)

            def prepare() -> object:
                return model.prepare(parse_invocation(body, content_type, model.signature))

            if len(body) > _INLINE_BODY_BYTES:
                prepared = await run_in_threadpool(prepare)
            else:
                prepared = prepare()
        result = await deployment.batcher.predict(prepared)
    except ShipyardError as exc:
        return error_response(request, exc, headers)
    assert result.predictions is not None
    content = encode_predictions(result.predictions)
    latency_ms = (time.perf_counter() - started) * 1000.0
    state.log_prediction(rid, started_ms, deployment, "/invocations", prepared, result, latency_ms)
    return Response(content, media_type="application/json", headers=headers)


@router.get("/ping", summary="Liveness (MLflow)")
def ping() -> Response:
    return Response("\n", media_type="text/plain")


@router.get("/health", summary="Liveness, with the versions loaded")
def health(request: Request) -> Response:
    state = serving_state(request)
    versions = {slot.role: slot.current.label for slot in state.router.slots}
    return Response(
        orjson.dumps({"status": "ok", "model": state.name, "versions": versions}),
        media_type="application/json",
    )


@router.get("/version", summary="Shipyard's version")
def version() -> Response:
    return Response(__version__, media_type="text/plain")
