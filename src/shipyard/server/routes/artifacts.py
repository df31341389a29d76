"""``/api/v1/runs/{run_id}/artifacts``: record, list and download a run's files.

The bytes live in the blob store; a run's artifacts map paths to blob digests.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from shipyard.entities import ArtifactEntry
from shipyard.errors import InvalidInputError
from shipyard.server.deps import ERRORS, NO_CONTENT, BlobStoreDep, StoreDep
from shipyard.server.routes.blobs import blob_response
from shipyard.server.schemas import ArtifactEntryBody, ArtifactList, LogArtifactsBody
from shipyard.store.base import BlobStore, Store
from shipyard.store.hashing import validate_digests
from shipyard.store.rest.codec import artifact_to_json

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/runs/{run_id}/artifacts", tags=["artifacts"], responses=ERRORS)


@router.post("", status_code=NO_CONTENT, summary="Record files of a run (blobs uploaded first)")
def log_artifacts(
    run_id: str, body: LogArtifactsBody, store: StoreDep, blob_store: BlobStoreDep
) -> Response:
    entries = [ArtifactEntry(e.path, e.size, e.digest) for e in body.entries]
    _check_blobs(blob_store, entries)
    store.log_artifacts(run_id, entries)
    return Response(status_code=NO_CONTENT)


def _check_blobs(blob_store: BlobStore, entries: list[ArtifactEntry]) -> None:
    """Every entry names a stored blob of its size: a record never points at nothing."""
    digests = list(dict.fromkeys(validate_digests(e.digest for e in entries)))
    absent = blob_store.missing(digests)
    sizes = {digest: blob_store.size(digest) for digest in digests if digest not in absent}
    for entry in entries:
        if entry.digest in absent:
            raise InvalidInputError(
                f"artifact {entry.path!r}: blob {entry.digest} is not stored; upload it first"
            )
        if sizes[entry.digest] != entry.size:
            raise InvalidInputError(
                f"artifact {entry.path!r}: size {entry.size} differs from its blob's "
                f"{sizes[entry.digest]} bytes"
            )


@router.get("", response_model=ArtifactList, summary="A run's files, ordered by path")
def list_artifacts(
    run_id: str, store: StoreDep, prefix: Annotated[str | None, Query()] = None
) -> Response:
    entries = store.list_artifacts(run_id, prefix)
    return JSONResponse({"artifacts": [artifact_to_json(entry) for entry in entries]})


@router.get("/entry", response_model=ArtifactEntryBody, summary="One file's size and digest")
def get_artifact(run_id: str, store: StoreDep, path: Annotated[str, Query()]) -> Response:
    return JSONResponse(artifact_to_json(store.get_artifact(run_id, path)))


_DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}}, "description": "The whole file"},
    206: {"content": {"application/octet-stream": {}}, "description": "The range asked for"},
    416: {"description": "Range not satisfiable"},
}


def _file_response(
    run_id: str, request: Request, store: Store, blob_store: BlobStore, path: str
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


# GET and HEAD are two routes (one api_route would give both one OpenAPI operation id).
@router.get(
    "/file",
    response_class=Response,
    summary="Download one file; Range requests answer 206",
    responses=_DOWNLOAD_RESPONSES,
)
def download_artifact(
    run_id: str,
    request: Request,
    store: StoreDep,
    blob_store: BlobStoreDep,
    path: Annotated[str, Query()],
) -> Response:
    return _file_response(run_id, request, store, blob_store, path)


@router.head(
    "/file",
    response_class=Response,
    summary="One file's headers, as a download would send them",
    responses=_DOWNLOAD_RESPONSES,
)
def head_artifact(
    run_id: str,
    request: Request,
    store: StoreDep,
    blob_store: BlobStoreDep,
    path: Annotated[str, Query()],
) -> Response:
    return _file_response(run_id, request, store, blob_store, path)
