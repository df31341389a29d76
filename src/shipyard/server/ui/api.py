"""Small JSON and byte endpoints behind the UI's charts and image previews.

``GET /ui/api/metrics?run=<id>&key=<k>...`` answers the histories of several
metrics of several runs in one request, each downsampled on the server to at
most ``max_points`` (keeping each bucket's extremes); ``GET /ui/raw/runs/{id}``
serves an image artifact inline with its own media type, and
``GET /ui/raw/evaluations/{id}/{plot}`` an evaluation's plot: only a digest that
an evaluation names is served this way; ``GET /ui/raw/reports/{id}/report.html``
(and ``report.json``) a monitoring report's own files. Errors are the API's JSON
errors.
"""

from __future__ import annotations

import math
from pathlib import PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from shipyard.errors import InvalidInputError, NotFoundError
from shipyard.server.deps import BlobStoreDep, StoreDep
from shipyard.server.routes.blobs import blob_response
from shipyard.server.ui.charts import DEFAULT_MAX_POINTS
from shipyard.server.ui.previews import IMAGE_TYPES
from shipyard.store.base import BlobStore

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

MAX_RUNS = 50
MAX_KEYS = 100
MAX_SERIES = 400
MAX_POINTS = 5000
_IMAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
# A report's HTML page runs no script and fetches nothing; it may be framed by the UI.
_REPORT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
)
_IMMUTABLE = "private, max-age=31536000, immutable"
_REPORT_FILES = {"report.html": "text/html; charset=utf-8", "report.json": "application/json"}


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None  # JSON has no NaN: a gap in the chart


@router.get("/ui/api/metrics")
def metric_histories(
    store: StoreDep,
    run: Annotated[list[str], Query()],
    key: Annotated[list[str], Query()],
    max_points: Annotated[int, Query(ge=2, le=MAX_POINTS)] = DEFAULT_MAX_POINTS,
) -> Response:
    run_ids = list(dict.fromkeys(run))
    keys = list(dict.fromkeys(key))
    if len(run_ids) > MAX_RUNS or len(keys) > MAX_KEYS or len(run_ids) * len(keys) > MAX_SERIES:
        raise InvalidInputError(
            f"ask for at most {MAX_RUNS} runs, {MAX_KEYS} keys and {MAX_SERIES} series at once"
        )
    series: list[dict[str, Any]] = []
    for run_id in run_ids:
        record = store.get_run(run_id)
        for metric_key in keys:
            if metric_key not in record.metrics:
                continue
            points = store.get_metric_history(run_id, metric_key, max_points=max_points)
            series.append(
                {
                    "run": run_id,
                    "key": metric_key,
                    "step": [p.step for p in points],
                    "time": [p.timestamp for p in points],
                    "value": [_finite(p.value) for p in points],
                }
            )
    return JSONResponse({"series": series, "max_points": max_points})


@router.api_route("/ui/raw/runs/{run_id}", methods=["GET", "HEAD"])
def raw_image(
    run_id: str,
    request: Request,
    store: StoreDep,
    blob_store: BlobStoreDep,
    path: Annotated[str, Query()],
) -> Response:
    media_type = IMAGE_TYPES.get(PurePosixPath(path).suffix.lower())
    if media_type is None:
        raise InvalidInputError(f"only images are served inline; download {path!r} instead")
    entry = store.get_artifact(run_id, path)
    response = blob_response(
        blob_store,
        entry.digest,
        request.headers.get("range"),
        head=request.method == "HEAD",
        if_range=request.headers.get("if-range"),
        media_type=media_type,
    )
    return _inline_image(response)


def _inline_image(response: Response) -> Response:
    # An SVG opened on its own must not run scripts in the server's origin.
    response.headers["Content-Security-Policy"] = _IMAGE_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@router.api_route("/ui/raw/evaluations/{evaluation_id}/{plot}", methods=["GET", "HEAD"])
def evaluation_plot(
    evaluation_id: str, plot: str, request: Request, store: StoreDep, blob_store: BlobStoreDep
) -> Response:
    evaluation = store.get_evaluation(evaluation_id)
    digest = evaluation.plots.get(plot)
    if digest is None:
        raise NotFoundError(f"evaluation {evaluation_id} has no plot {plot!r}")
    media_type = IMAGE_TYPES.get(PurePosixPath(plot).suffix.lower())
    if media_type is None:
        raise InvalidInputError(f"plot {plot!r} is not an image this server shows inline")
    # The address names an immutable evaluation, so a cached copy is always current.
    return _inline_image(_immutable_blob(request, blob_store, digest, media_type))


def _immutable_blob(
    request: Request, blob_store: BlobStore, digest: str, media_type: str
) -> Response:
    etag = f'"{digest}"'
    if request.headers.get("if-none-match", "").strip() == etag:
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": _IMMUTABLE})
    return blob_response(
        blob_store,
        digest,
        request.headers.get("range"),
        head=request.method == "HEAD",
        if_range=request.headers.get("if-range"),
        media_type=media_type,
    )


@router.api_route("/ui/raw/reports/{report_id}/{name}", methods=["GET", "HEAD"])
def report_file(
    report_id: str, name: str, request: Request, store: StoreDep, blob_store: BlobStoreDep
) -> Response:
    media_type = _REPORT_FILES.get(name)
    if media_type is None:
        raise NotFoundError(f"a report has {' and '.join(_REPORT_FILES)}, not {name!r}")
    report = store.get_report(report_id)
    digest = report.html_digest if name == "report.html" else report.report_digest
    if digest is None:
        raise NotFoundError(f"report {report_id} has no HTML rendering")
    response = _immutable_blob(request, blob_store, digest, media_type)
    response.headers["Content-Security-Policy"] = _REPORT_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
