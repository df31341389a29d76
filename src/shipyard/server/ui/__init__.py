"""The web UI served at ``/``: server-rendered pages, their JSON chart data and static files.

Pages render with Jinja2 and read the same Store as the API. Each page works
without JavaScript; ``static/shipyard.js`` adds charts (uPlot) and small
conveniences on top.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from shipyard.server.ui.api import router as api_router
from shipyard.server.ui.compare import router as compare_router
from shipyard.server.ui.datasets import router as datasets_router
from shipyard.server.ui.models import router as models_router
from shipyard.server.ui.monitoring import router as monitoring_router
from shipyard.server.ui.pages import router as pages_router
from shipyard.server.ui.run_page import router as run_router
from shipyard.server.ui.vendor import router as vendor_router
from shipyard.ui import STATIC_DIR

__all__ = ["install"]


def install(app: FastAPI) -> None:
    """Add the UI's pages, its JSON endpoints and ``/static`` to ``app``."""
    app.include_router(api_router)
    app.include_router(pages_router)
    app.include_router(run_router)
    app.include_router(compare_router)
    app.include_router(datasets_router)
    app.include_router(models_router)
    app.include_router(monitoring_router)
    app.include_router(vendor_router)  # before the mount, which would answer 404
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
