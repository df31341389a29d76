"""The FastAPI app: the native REST API under ``/api/v1``, ``/health`` and ``/metrics``.

Routes are plain ``def`` functions: Store calls block (SQLAlchemy), so FastAPI
runs them in its thread pool. Middleware, outermost first: the catch-all 500
handler, Prometheus metrics, body size limits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from shipyard._version import __version__
from shipyard.server import errors
from shipyard.server.idempotency import IdempotencyCache
from shipyard.server.limits import (
    DEFAULT_MAX_JSON_BYTES,
    DEFAULT_MAX_UPLOAD_BYTES,
    BodySizeLimitMiddleware,
)
from shipyard.server.metrics import MetricsMiddleware, ServerMetrics
from shipyard.server.metrics import router as metrics_router
from shipyard.server.routes import (
    artifacts,
    blob_fetch,
    blobs,
    datasets,
    experiments,
    models,
    runs,
)
from shipyard.server.routes import monitoring as monitoring_routes
from shipyard.server.schemas import Health
from shipyard.server.settings import ServerSettings
from shipyard.server.ui import install as install_ui
from shipyard.store.base import BlobStore, Store

__all__ = ["app_from_env", "create_app"]

_DESCRIPTION = """\
Shipyard's native REST API. Every error answers
`{"error": {"code": "...", "message": "..."}}` with the matching HTTP status.
Non-finite metric values travel as the strings `"NaN"`, `"Infinity"` and `"-Infinity"`.
"""


def create_app(
    store: Store,
    blob_store: BlobStore,
    *,
    max_json_bytes: int = DEFAULT_MAX_JSON_BYTES,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    owns_stores: bool = False,
) -> FastAPI:
    """An app serving ``store`` and ``blob_store``; with ``owns_stores`` it closes them at exit."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if owns_stores:
                store.close()
                blob_store.close()

    app = FastAPI(
        title="Shipyard",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        # "/runs/" must not silently redirect to another endpoint ("/runs").
        redirect_slashes=False,
    )
    app.state.store = store
    app.state.blob_store = blob_store
    app.state.metrics = ServerMetrics()
    app.state.idempotency = IdempotencyCache()

    errors.install(app)

    @app.get("/health", response_model=Health, tags=["server"], summary="Liveness check")
    def health() -> Health:
        return Health(status="ok", version=__version__)

    app.include_router(metrics_router)
    app.include_router(experiments.router)
    app.include_router(runs.router)
    app.include_router(artifacts.router)
    app.include_router(blobs.router)
    app.include_router(blob_fetch.router)
    app.include_router(datasets.router)
    app.include_router(models.router)
    app.include_router(monitoring_routes.router)
    install_ui(app)

    # add_middleware wraps what is there: the last one added runs first.
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_json_bytes=max_json_bytes,
        max_upload_bytes=max_upload_bytes,
    )
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(errors.CatchAllMiddleware)
    return app


def app_from_env() -> FastAPI:
    """The app factory uvicorn calls in each worker (``factory=True``)."""
    settings = ServerSettings.from_env()
    store, blob_store = settings.open_stores()
    return create_app(
        store,
        blob_store,
        max_json_bytes=settings.max_json_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        owns_stores=True,
    )
