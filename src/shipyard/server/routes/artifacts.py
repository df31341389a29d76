"""``/api/v1/runs/{run_id}/artifacts``: record, list and download a run's files.

The bytes live in the blob store; a run's artifacts map paths to blob digests.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from shipyard.entities import ArtifactEntry
from shipyard.server.deps import ERRORS, BlobStoreDep, StoreDep
from shipyard.server.routes.blobs import blob_response
from shipyard.server.schemas import ArtifactEntryBody, ArtifactList, LogArtifactsBody
from shipyard.store.rest.codec import artifact_to_json

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/runs/{run_id}/artifacts", tags=["artifacts"], responses=ERRORS)

NO_CONTENT = 204


@router.post("", status_code=NO_CONTENT, summary="Record files of a run (blobs uploaded first)")
def log_artifacts(run_id: str, body: LogArtifactsBody, store: StoreDep) -> Response:
    entries = [ArtifactEntry(e.path, e.size, e.digest) for e in body.entries]
    store.log_artifacts(run_id, entries)
    return Response(status_code=NO_CONTENT)


@router.get("", response_model=ArtifactList, summary="A run's files, ordered by path")
def list_artifacts(
    run_id: str, store: StoreDep, prefix: Annotated[str | None, Query()] = None
) -> Response:
    entries = store.list_artifacts(run_id, prefix)
    return JSONResponse({"artifacts": [artifact_to_json(entry) for entry in entries]})


@router.get("/entry", response_model=ArtifactEntryBody, summary="One file's size and digest")
def get_artifact(run_id: str, store: StoreDep, path: Annotated[str, Query()]) -> Response:
    return JSONResponse(artifact_to_json(store.get_artifact(run_id, path)))


@router.api_route(
    "/file",
    methods=["GET", "HEAD"],
    response_class=Response,
    summary="Download one file; Range requests answer 206",
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The whole file"},
        206: {"content": {"application/octet-stream": {}}, "description": "The range asked for"},
        416: {"description": "Range not satisfiable"},
    },
)
def download_artifact(
    run_id: str,
    request: Request,
    store: StoreDep,
    blob_store: BlobStoreDep,
    path: Annotated[str, Query()],
) -> Response:
    entry = store.get_artifact(run_id, path)
    return blob_response(
        blob_store,
        entry.digest,
        request.headers.get("range"),
        filename=entry.path,
        head=request.method == "HEAD",
        if_range=request.headers.get("if-range"),
    )
