"""The run page (overview, metrics, params, environment, artifacts) and artifact previews."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from shipyard.entities import ArtifactEntry, ModelVersion, Run
from shipyard.errors import InvalidInputError, NotFoundError
from shipyard.server.deps import BlobStoreDep, StoreDep
from shipyard.server.ui.charts import chart_settings
from shipyard.server.ui.model_data import model_folders, versions_for_run
from shipyard.server.ui.previews import IMAGE_TYPES, preview_artifact, read_head
from shipyard.server.ui.rendering import PageRoute, render
from shipyard.store.base import BlobStore, Store
from shipyard.store.filter_ast import Comparison, Entity, Op, to_filter_string
from shipyard.validation import validate_artifact_path

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TAG_PREFIX = "shipyard."
REQUIREMENTS_PATH = "environment/requirements.txt"
DIFF_PATH = "code/uncommitted.diff"
MAX_REQUIREMENTS_BYTES = 256 * 1024
MAX_CHILDREN = 100
MAX_FOLDER_ITEMS = 1000
MAX_CHARTS = 60


@dataclass(frozen=True, slots=True)
class FolderItem:
    name: str
    path: str
    is_dir: bool
    size: int
    count: int = 1


@dataclass(frozen=True, slots=True)
class LoggedModel:
    """A model package the run logged, and the registered versions made from it."""

    folder: str
    versions: list[ModelVersion]


def logged_models(store: Store, run: Run, entries: list[ArtifactEntry]) -> list[LoggedModel]:
    folders = model_folders(entries)
    if not folders:
        return []
    versions = versions_for_run(store, run.id)
    # A version pins the package by its manifest's digest: the same bytes as the artifact.
    return [
        LoggedModel(folder, [v for v in versions if v.package_digest == digest])
        for folder, digest in folders.items()
    ]


def folder_listing(entries: list[ArtifactEntry], folder: str) -> list[FolderItem]:
    """The direct children of ``folder``: sub-folders (with file count and size) first."""
    base = folder.rstrip("/") + "/" if folder else ""
    dirs: dict[str, list[int]] = {}
    files: list[FolderItem] = []
    for entry in entries:
        if not entry.path.startswith(base) or entry.path == folder:
            continue
        name, slash, _ = entry.path[len(base) :].partition("/")
        if slash:
            totals = dirs.setdefault(name, [0, 0])
            totals[0] += 1
            totals[1] += entry.size
        else:
            files.append(FolderItem(name, entry.path, False, entry.size))
    folders = [
        FolderItem(name, base + name, True, size, count)
        for name, (count, size) in sorted(dirs.items())
    ]
    return folders + files


def _crumbs(folder: str) -> list[tuple[str, str]]:
    """(label, folder path) for each level of ``folder``."""
    parts = [part for part in folder.split("/") if part]
    return [(part, "/".join(parts[: i + 1])) for i, part in enumerate(parts)]


def _children(store: Store, run: Run) -> list[Run]:
    condition = Comparison(Entity.ATTRIBUTE, "parent_run_id", Op.EQ, run.id)
    return store.search_runs(
        [run.experiment_id], filter_string=to_filter_string(condition), max_results=MAX_CHILDREN
    ).items


def _parent(store: Store, run: Run) -> Run | None:
    if run.parent_run_id is None:
        return None
    try:
        return store.get_run(run.parent_run_id)
    except NotFoundError:
        return None


def _optional_artifact(store: Store, run_id: str, path: str) -> ArtifactEntry | None:
    try:
        return store.get_artifact(run_id, path)
    except NotFoundError:
        return None


def _requirements(store: Store, blob_store: BlobStore, run_id: str) -> str | None:
    entry = _optional_artifact(store, run_id, REQUIREMENTS_PATH)
    if entry is None:
        return None
    return read_head(blob_store, entry.digest, MAX_REQUIREMENTS_BYTES).decode("utf-8", "replace")


def _folder(raw: str | None) -> str:
    if not raw or not raw.strip("/"):
        return ""
    return validate_artifact_path(raw.strip("/"), "folder")


@router.get("/runs/{run_id}", summary="Run page")
def run_page(
    request: Request,
    run_id: str,
    store: StoreDep,
    blob_store: BlobStoreDep,
    dir: Annotated[str | None, Query()] = None,
) -> Response:
    run = store.get_run(run_id)
    folder = _folder(dir)
    entries = store.list_artifacts(run.id, folder or None)
    items = folder_listing(entries, folder)
    if folder and not items:
        raise NotFoundError(f"run {run.name!r} has no artifact folder {folder!r}")
    tags = run.tags
    system_tags = {k[len(TAG_PREFIX) :]: v for k, v in tags.items() if k.startswith(TAG_PREFIX)}
    metric_keys = sorted(run.metrics)
    everything = store.list_artifacts(run.id) if folder else entries
    return render(
        request,
        "run.html",
        run=run,
        experiment=store.get_experiment(run.experiment_id),
        parent=_parent(store, run),
        children=_children(store, run),
        inputs=store.get_run_inputs(run.id),
        user_tags={k: v for k, v in sorted(tags.items()) if not k.startswith(TAG_PREFIX)},
        system_tags=dict(sorted(system_tags.items())),
        git_dirty=system_tags.get("git.dirty", "").lower() in ("true", "1", "yes"),
        diff_entry=_optional_artifact(store, run.id, DIFF_PATH),
        requirements=_requirements(store, blob_store, run.id),
        metric_keys=metric_keys,
        chart_keys=metric_keys[:MAX_CHARTS],
        chart=chart_settings(request.query_params),
        folder=folder,
        crumbs=_crumbs(folder),
        items=items[:MAX_FOLDER_ITEMS],
        more_items=max(0, len(items) - MAX_FOLDER_ITEMS),
        artifact_count=len(entries),
        models=logged_models(store, run, everything),
    )


@router.get("/runs/{run_id}/artifacts", summary="Artifact preview")
def artifact_page(
    request: Request,
    run_id: str,
    store: StoreDep,
    blob_store: BlobStoreDep,
    path: Annotated[str | None, Query()] = None,
) -> Response:
    if not path:
        raise InvalidInputError("say which artifact to show: ?path=<artifact path>")
    run = store.get_run(run_id)
    entry = store.get_artifact(run.id, path)
    folder, _, name = entry.path.rpartition("/")
    return render(
        request,
        "artifact.html",
        run=run,
        experiment=store.get_experiment(run.experiment_id),
        entry=entry,
        name=name,
        folder=folder,
        crumbs=_crumbs(folder),
        preview=preview_artifact(entry, blob_store),
        is_image=any(entry.path.lower().endswith(suffix) for suffix in IMAGE_TYPES),
    )
