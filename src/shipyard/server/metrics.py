"""Prometheus metrics about the server itself, labelled by route template.

Labels use the route's template (``/api/v1/runs/{run_id}``), never the raw
path, so that ids do not grow the number of series. Each app has its own
registry; with several workers each worker reports its own counts.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MetricsMiddleware", "ServerMetrics", "router"]

UNMATCHED = "unmatched"


class ServerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # Errors are the requests with status >= 400: no separate counter is needed.
        self.requests = Counter(
            "shipyard_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "shipyard_http_request_duration_seconds",
            "Time from receiving a request to finishing its answer.",
            ["method", "route"],
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.duration.labels(method, route).observe(seconds)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: ServerMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            # The router records the matched route in the scope it was given.
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            self.metrics.observe(
                str(scope.get("method", "")), route, status, time.perf_counter() - started
            )


router = APIRouter(tags=["server"])


@router.get("/metrics", response_class=Response, summary="Prometheus metrics of this server")
def metrics_endpoint(request: Request) -> Response:
    metrics: ServerMetrics = request.app.state.metrics
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
