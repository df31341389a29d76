"""Dataset pages: the datasets, a dataset's versions, one version, and a diff of two.

``/datasets``, ``/datasets/{name}``, ``/datasets/{name}/{version}`` (files,
profile, the runs that used it) and ``/datasets/{name}/diff?old=A&new=B``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from shipyard.data.diff import diff_versions
from shipyard.data.manifest import read_manifest
from shipyard.entities import Run, ViewType
from shipyard.errors import InvalidInputError, NotFoundError
from shipyard.server.deps import BlobStoreDep, StoreDep
from shipyard.server.ui.profile_view import profile_files
from shipyard.server.ui.rendering import PageRoute, render

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 100
MAX_FILES = 500
MAX_RUNS = 100
MAX_DIFF_ROWS = 500


@router.get("/datasets", summary="Datasets")
def datasets_page(
    request: Request, store: StoreDep, page_token: Annotated[str | None, Query()] = None
) -> Response:
    page = store.list_datasets(ViewType.ACTIVE, max_results=PAGE_SIZE, page_token=page_token)
    return render(request, "datasets.html", datasets=page.items, next_token=page.next_page_token)


@router.get("/datasets/{name}", summary="A dataset's versions")
def dataset_page(request: Request, name: str, store: StoreDep) -> Response:
    dataset = store.get_dataset(name)
    versions = store.list_dataset_versions(dataset.name, ViewType.ALL)
    return render(request, "dataset.html", dataset=dataset, versions=versions[::-1])


def _version_number(raw: str, what: str) -> int:
    if not raw.isascii() or not raw.isdigit():
        raise InvalidInputError(f"{what} must be a version number, got {raw!r}")
    return int(raw)


@router.get("/datasets/{name}/diff", summary="Diff two versions")
def diff_page(
    request: Request,
    name: str,
    store: StoreDep,
    blob_store: BlobStoreDep,
    old: Annotated[str, Query()] = "",
    new: Annotated[str, Query()] = "",
) -> Response:
    before = store.get_dataset_version(name, _version_number(old, "old"))
    after = store.get_dataset_version(name, _version_number(new, "new"))
    diff = diff_versions(blob_store, before, after)
    return render(
        request,
        "dataset_diff.html",
        dataset=store.get_dataset(name),
        old=before,
        new=after,
        diff=diff,
        limit=MAX_DIFF_ROWS,
    )


def _runs(store: StoreDep, run_ids: list[str]) -> list[Run]:
    runs = []
    for run_id in run_ids[:MAX_RUNS]:
        try:
            runs.append(store.get_run(run_id))
        except NotFoundError:
            continue
    return runs


@router.get("/datasets/{name}/{version}", summary="One dataset version")
def version_page(
    request: Request, name: str, version: str, store: StoreDep, blob_store: BlobStoreDep
) -> Response:
    record = store.get_dataset_version(name, _version_number(version, "version"))
    manifest = read_manifest(blob_store, record.manifest_digest)
    entries = list(manifest.by_path.values())
    return render(
        request,
        "dataset_version.html",
        dataset=store.get_dataset(name),
        version=record,
        files=entries[:MAX_FILES],
        more_files=max(0, len(entries) - MAX_FILES),
        profiles=profile_files(record.profile),
        runs=_runs(store, store.get_dataset_version_runs(record.dataset, record.version)),
    )
