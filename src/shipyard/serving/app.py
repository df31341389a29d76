"""The model server app: one model (plus an optional canary) behind V2, /invocations,
feedback (``POST /v2/models/{name}/feedback``) and Prometheus /metrics.

``create_serving_app`` resolves and loads the models before it returns, so a
bad URI, an untrusted pickle or (with ``strict_env``) a foreign environment
fails before anything binds a port. Following aliases and prediction logging
start with the app's lifespan and stop with it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import orjson
from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.exposition import generate_latest
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shipyard._version import __version__
from shipyard.errors import ShipyardError
from shipyard.monitoring.feedback import create_feedback_router
from shipyard.serving import routes_scoring, routes_v2
from shipyard.serving.batcher import Batcher
from shipyard.serving.config import ServeConfig
from shipyard.serving.deployment import (
    Deployment,
    Follower,
    LoadedVersion,
    ModelSlot,
    Router,
    load_version,
    swap_on_loop,
)
from shipyard.serving.logging_hook import open_prediction_log
from shipyard.serving.metrics import ServingMetrics
from shipyard.serving.source import ModelSource, RegistrySource, Resolved
from shipyard.serving.state import V2_PREFIX, VERSION_HEADER, ServingState, error_response

if TYPE_CHECKING:
    from shipyard.tracking.client import Client

__all__ = ["app_from_env", "create_serving_app"]

log = logging.getLogger("shipyard.serving")

PRIMARY = "primary"
CANARY = "canary"
_UNMATCHED = "unmatched"


class _ServingMiddleware:
    """Counts requests (by the version that answered), times them, tracks those in
    flight, and answers 500 in the route's error shape if a route raises."""

    def __init__(self, app: ASGIApp, metrics: ServingMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self._version_header = VERSION_HEADER.lower().encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        version = ""
        response_started = False

        async def send_observed(message: Message) -> None:
            nonlocal status, version, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                for key, value in message.get("headers", ()):
                    if key == self._version_header:
                        version = value.decode("latin-1")
            await send(message)

        self.metrics.request_started()
        try:
            await self.app(scope, receive, send_observed)
        except Exception:
            log.exception("%s %s failed", scope.get("method"), scope.get("path"))
            if response_started:
                raise
            message = "internal error"
            path = str(scope.get("path", ""))
            payload = (
                {"error": message}
                if path.startswith(V2_PREFIX)
                else {"error": {"code": "INTERNAL", "message": message}}
            )
            response = Response(orjson.dumps(payload), 500, media_type="application/json")
            await response(scope, receive, send_observed)
        finally:
            self.metrics.request_finished()
            route = getattr(scope.get("route"), "path", None) or _UNMATCHED
            self.metrics.observe_request(version, route, status, time.perf_counter() - started)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"no such endpoint: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    if request.url.path.startswith(V2_PREFIX):
        payload: dict[str, object] = {"error": message}
    else:
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "INVALID_INPUT")
        payload = {"error": {"code": code, "message": message}}
    return Response(
        orjson.dumps(payload), exc.status_code, headers=exc.headers, media_type="application/json"
    )


def _make_deployment(
    config: ServeConfig, metrics: ServingMetrics, loaded: LoadedVersion, role: str
) -> Deployment:
    batcher = Batcher(
        loaded.model,
        max_batch_size=config.max_batch_size,
        max_latency_ms=config.max_latency_ms,
        observer=metrics.batch_observer(loaded.label),
    )
    metrics.loaded(
        loaded.label, role, loaded.resolved.pinned_uri, loaded.model.flavor, loaded.load_seconds
    )
    return Deployment(loaded, role, batcher)


def create_serving_app(
    config: ServeConfig,
    *,
    source: ModelSource | None = None,
    client: Client | None = None,
) -> FastAPI:
    """A server for ``config.model_uri`` (and its canary), loaded and checked.

    ``source`` defaults to the registry that ``client`` (else ``config.store_uri``,
    else ``SHIPYARD_URI``) reaches. Raises a ShipyardError when a model cannot be
    served: an unknown URI, an untrusted pickle, a failing input example, or a
    major environment difference with ``config.strict_env``.
    """
    if client is None:
        from shipyard.tracking.client import Client

        client = Client(config.store_uri)
    if source is None:
        source = RegistrySource(client, trust=config.trust)

    primary_resolved = source.resolve(config.model_uri)
    primary_loaded = load_version(source, primary_resolved, strict_env=config.strict_env)
    canary_loaded: LoadedVersion | None = None
    if config.canary_uri:
        canary_resolved = source.resolve(config.canary_uri)
        canary_loaded = load_version(source, canary_resolved, strict_env=config.strict_env)

    name = config.name or primary_resolved.name or "model"
    metrics = ServingMetrics(name)
    primary = ModelSlot(
        config.model_uri, PRIMARY, _make_deployment(config, metrics, primary_loaded, PRIMARY)
    )
    canary = (
        ModelSlot(
            config.canary_uri, CANARY, _make_deployment(config, metrics, canary_loaded, CANARY)
        )
        if canary_loaded is not None and config.canary_uri
        else None
    )
    router = Router(primary, canary, config.canary_percent)
    state = ServingState(name, router, metrics, config.max_body_bytes)

    def on_swapped(slot: ModelSlot, old: Deployment, new: Deployment) -> None:
        metrics.unloaded(old.label, slot.role, old.loaded.resolved.pinned_uri, old.model.flavor)
        metrics.swaps.labels(name, slot.role).inc()

    def on_failed(slot: ModelSlot, resolved: Resolved, exc: BaseException) -> None:
        metrics.swap_failures.labels(name, slot.role).inc()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        follower = Follower(
            source,
            router.slots,
            interval=config.poll_interval,
            strict_env=config.strict_env,
            on_loaded=swap_on_loop(
                loop,
                lambda loaded, role: _make_deployment(config, metrics, loaded, role),
                on_swapped,
            ),
            on_failed=on_failed,
        )
        app.state.follower = follower
        if config.log_predictions:
            state.prediction_log = open_prediction_log(client, name, config.log_sample)
            sink = state.prediction_log
            if sink is not None:
                metrics.watch_prediction_log(lambda: (sink.logged, sink.dropped))
        # What is loaded now lives as long as the server: keep the cyclic collector from
        # walking it at each full collection (over a model and the web stack, one such
        # walk takes ~150 ms on a 2-core machine, a stall every request in flight feels).
        gc.collect()
        gc.freeze()
        follower.start()
        try:
            yield
        finally:
            follower.stop()
            for deployment in router.deployments():
                await deployment.batcher.close()
            if state.prediction_log is not None:
                await asyncio.to_thread(state.prediction_log.close)

    app = FastAPI(
        title=f"Shipyard model server: {name}",
        version=__version__,
        description=(
            "Open Inference Protocol (V2) under /v2, feedback at /v2/models/{name}/feedback, "
            "MLflow-style /invocations, /metrics."
        ),
        lifespan=lifespan,
        redirect_slashes=False,
    )
    app.state.serving = state
    app.state.config = config
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(ShipyardError, _shipyard_error)

    @app.get("/metrics", tags=["server"], summary="Prometheus metrics")
    def metrics_endpoint() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(routes_v2.router)
    app.include_router(routes_scoring.router)
    # True labels of answered requests, by the X-Request-ID the server answered with;
    # the canary answers under the same name, so one name covers both.
    app.include_router(create_feedback_router(client, [name]))
    app.add_middleware(_ServingMiddleware, metrics=metrics)
    return app


async def _shipyard_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ShipyardError)
    return error_response(request, exc)


def app_from_env() -> FastAPI:
    """The app factory each uvicorn worker calls (``factory=True``)."""
    return create_serving_app(ServeConfig.from_env())
