"""The vendored chart library, kept gzip-compressed in the package.

The minified script is stored as ``uPlot.iife.min.js.gz`` (a quarter of the
size in the wheel) and served at its usual address: compressed to clients that
accept gzip, decompressed once for the rest.
"""

from __future__ import annotations

import functools
import gzip

from fastapi import APIRouter, Request, Response

from shipyard.ui import STATIC_DIR

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_SCRIPT = STATIC_DIR / "vendor" / "uplot" / "uPlot.iife.min.js.gz"
_HEADERS = {"Cache-Control": "public, max-age=86400", "Vary": "Accept-Encoding"}


@functools.cache
def _compressed() -> bytes:
    return _SCRIPT.read_bytes()


@functools.cache
def _plain() -> bytes:
    return gzip.decompress(_compressed())


@router.get("/static/vendor/uplot/uPlot.iife.min.js")
def uplot_script(request: Request) -> Response:
    media_type = "text/javascript; charset=utf-8"
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers = {**_HEADERS, "Content-Encoding": "gzip"}
        return Response(_compressed(), media_type=media_type, headers=headers)
    return Response(_plain(), media_type=media_type, headers=_HEADERS)
