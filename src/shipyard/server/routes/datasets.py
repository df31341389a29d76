"""``/api/v1/datasets``: dataset versions, labels, profiles; ``/runs/{id}/inputs`` (lineage);
``/references`` (what ``shipyard gc`` must keep).

A version's manifest is a blob: the client uploads every file blob, then the
manifest blob, then creates the version. The server refuses a version (or a
restore) whose manifest blob it does not hold, so no version ever points at
missing bytes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from shipyard.entities import ViewType
from shipyard.errors import ConflictError, InvalidInputError
from shipyard.server.deps import ERRORS, NO_CONTENT, BlobStoreDep, IdempotencyKey, StoreDep
from shipyard.server.schemas import SetTagBody
from shipyard.server.schemas_datasets import (
    CreateDatasetVersionBody,
    CreatedDatasetVersion,
    DatasetBody,
    DatasetPage,
    DatasetVersionBody,
    DatasetVersionList,
    DigestList,
    LogRunInputsBody,
    RunIdList,
    RunInputList,
    SetDescriptionBody,
    SetProfileBody,
    TagVersionBody,
)
from shipyard.store.base import DEFAULT_PAGE_SIZE
from shipyard.store.hashing import validate_digest
from shipyard.store.rest.codec import (
    dataset_to_json,
    dataset_version_to_json,
    page_to_json,
    run_input_to_json,
)

__all__ = ["router"]

_datasets = APIRouter(prefix="/datasets", tags=["datasets"])
_lineage = APIRouter(prefix="/runs/{run_id}/inputs", tags=["runs"])
_references = APIRouter(prefix="/references", tags=["gc"])

_VERSION = "/{name}/versions/{version}"


@_datasets.post(
    "/{name}/versions",
    status_code=201,
    response_model=CreatedDatasetVersion,
    summary="Add a version (201), or find the content unchanged (200)",
    responses={200: {"model": CreatedDatasetVersion, "description": "Unchanged: no new version"}},
)
def create_dataset_version(
    name: str,
    body: CreateDatasetVersionBody,
    store: StoreDep,
    blob_store: BlobStoreDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    digest = validate_digest(body.manifest_digest, "manifest digest")
    if not blob_store.exists(digest):
        raise InvalidInputError(f"manifest blob {digest} is not stored; upload it first")
    version, created = store.create_dataset_version(
        name,
        digest,
        body.file_count,
        body.total_size,
        message=body.message,
        author=body.author,
        tags=body.tags,
        profile=body.profile,
        idempotency_key=idempotency_key,
    )
    answer = {"dataset_version": dataset_version_to_json(version), "created": created}
    return JSONResponse(answer, status_code=201 if created else 200)


@_datasets.get("", response_model=DatasetPage, summary="List datasets")
def list_datasets(
    store: StoreDep,
    view: ViewType = ViewType.ACTIVE,
    max_results: int = DEFAULT_PAGE_SIZE,
    page_token: str | None = None,
) -> Response:
    page = store.list_datasets(view, max_results, page_token)
    return JSONResponse(page_to_json(page, "datasets", dataset_to_json))


@_datasets.get("/{name}", response_model=DatasetBody, summary="A dataset")
def get_dataset(name: str, store: StoreDep) -> Response:
    return JSONResponse(dataset_to_json(store.get_dataset(name)))


@_datasets.patch("/{name}", response_model=DatasetBody, summary="Set the description")
def set_dataset_description(name: str, body: SetDescriptionBody, store: StoreDep) -> Response:
    return JSONResponse(dataset_to_json(store.set_dataset_description(name, body.description)))


@_datasets.put("/{name}/tags", status_code=NO_CONTENT, summary="Tag a dataset")
def set_dataset_tag(name: str, body: SetTagBody, store: StoreDep) -> Response:
    store.set_dataset_tag(name, body.key, body.value)
    return Response(status_code=NO_CONTENT)


@_datasets.delete("/{name}/tags", status_code=NO_CONTENT, summary="Untag a dataset")
def delete_dataset_tag(name: str, store: StoreDep, key: Annotated[str, Query()]) -> Response:
    store.delete_dataset_tag(name, key)
    return Response(status_code=NO_CONTENT)


@_datasets.get(
    "/{name}/versions",
    response_model=DatasetVersionList,
    summary="A dataset's versions, oldest first",
)
def list_dataset_versions(name: str, store: StoreDep, view: ViewType = ViewType.ACTIVE) -> Response:
    versions = store.list_dataset_versions(name, view)
    return JSONResponse({"versions": [dataset_version_to_json(v) for v in versions]})


@_datasets.get(
    "/{name}/versions/{ref}",
    response_model=DatasetVersionBody,
    summary="One version by number, tag or 'latest'",
)
def get_dataset_version(name: str, ref: str, store: StoreDep) -> Response:
    return JSONResponse(dataset_version_to_json(store.get_dataset_version(name, ref)))


@_datasets.delete(_VERSION, status_code=NO_CONTENT, summary="Delete (soft)")
def delete_dataset_version(name: str, version: int, store: StoreDep) -> Response:
    store.delete_dataset_version(name, version)
    return Response(status_code=NO_CONTENT)


@_datasets.post(f"{_VERSION}/restore", status_code=NO_CONTENT, summary="Restore a version")
def restore_dataset_version(
    name: str, version: int, store: StoreDep, blob_store: BlobStoreDep
) -> Response:
    found = store.get_dataset_version(name, version)
    if not blob_store.exists(found.manifest_digest):
        raise ConflictError(
            f"version {version} of dataset {name!r} cannot be restored: its manifest blob "
            f"{found.manifest_digest} was garbage-collected; add the data again"
        )
    store.restore_dataset_version(name, version)
    return Response(status_code=NO_CONTENT)


@_datasets.put(f"{_VERSION}/profile", status_code=NO_CONTENT, summary="Set the profile")
def set_dataset_version_profile(
    name: str, version: int, body: SetProfileBody, store: StoreDep
) -> Response:
    store.set_dataset_version_profile(name, version, body.profile)
    return Response(status_code=NO_CONTENT)


@_datasets.get(
    f"{_VERSION}/runs",
    response_model=RunIdList,
    summary="Runs that used this version",
)
def get_dataset_version_runs(name: str, version: int, store: StoreDep) -> Response:
    return JSONResponse({"run_ids": store.get_dataset_version_runs(name, version)})


@_datasets.put(
    "/{name}/version-tags/{tag}",
    status_code=NO_CONTENT,
    summary="Put a label on a version (moving it off another)",
)
def tag_dataset_version(name: str, tag: str, body: TagVersionBody, store: StoreDep) -> Response:
    store.tag_dataset_version(name, body.version, tag)
    return Response(status_code=NO_CONTENT)


@_datasets.delete(
    "/{name}/version-tags/{tag}",
    status_code=NO_CONTENT,
    summary="Remove a version label",
)
def untag_dataset_version(name: str, tag: str, store: StoreDep) -> Response:
    store.untag_dataset_version(name, tag)
    return Response(status_code=NO_CONTENT)


# -- lineage -------------------------------------------------------------------
@_lineage.post(
    "",
    status_code=NO_CONTENT,
    summary="Record dataset versions a run used (repeats store once)",
)
def log_run_inputs(run_id: str, body: LogRunInputsBody, store: StoreDep) -> Response:
    store.log_run_inputs(run_id, [(item.dataset, item.version) for item in body.inputs])
    return Response(status_code=NO_CONTENT)


@_lineage.get(
    "",
    response_model=RunInputList,
    summary="Dataset versions a run used",
)
def get_run_inputs(run_id: str, store: StoreDep) -> Response:
    return JSONResponse({"inputs": [run_input_to_json(i) for i in store.get_run_inputs(run_id)]})


# -- garbage collection ----------------------------------------------------------
def _digests(found: set[str]) -> dict[str, Any]:
    return {"digests": sorted(found)}


@_references.get(
    "/digests",
    response_model=DigestList,
    summary="Every blob digest live metadata names (run artifacts, live manifests)",
)
def referenced_digests(store: StoreDep) -> Response:
    return JSONResponse(_digests(store.referenced_digests()))


@_references.get(
    "/manifests",
    response_model=DigestList,
    summary="Manifest digests of live dataset versions",
)
def live_manifest_digests(store: StoreDep) -> Response:
    return JSONResponse(_digests(store.live_manifest_digests()))


router = APIRouter(prefix="/api/v1", responses=ERRORS)
router.include_router(_datasets)
router.include_router(_lineage)
router.include_router(_references)
