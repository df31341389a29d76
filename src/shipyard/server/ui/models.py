"""Model registry pages: the models, one model, and one version.

``/models`` (``?name=`` filters), ``/models/{name}`` (versions, aliases and their
history, evaluations, promotion decisions, lineage) and ``/models/{name}/{ref}``
where ``ref`` is a version number or an alias, so ``/models/digits/production``
is a link that keeps following the alias.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from shipyard.entities import AliasEvent, Evaluation, ModelVersion, PromotionDecision, Run
from shipyard.errors import NotFoundError
from shipyard.server.deps import BlobStoreDep, StoreDep
from shipyard.server.ui.lineage import layout, lineage_graph
from shipyard.server.ui.model_data import Package, evaluation_groups, input_example, read_package
from shipyard.server.ui.rendering import PageRoute, render
from shipyard.store.base import BlobStore, Store
from shipyard.store.models_base import normalize_model_ref

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 100
MAX_VERSIONS = 200  # rows of the versions table
MAX_RUN_NAMES = 50  # versions whose source run is looked up by name
MAX_LINEAGE_VERSIONS = 12
MAX_PLOTS = 24


@router.get("/models", summary="Registered models")
def models_page(
    request: Request,
    store: StoreDep,
    name: Annotated[str | None, Query()] = None,
    page_token: Annotated[str | None, Query()] = None,
    prev: Annotated[list[str] | None, Query()] = None,
) -> Response:
    search = (name or "").strip()
    earlier = prev or []
    # LIKE treats % and _ as wildcards; a name search means the characters themselves.
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    page = store.list_registered_models(
        name_like=f"%{escaped}%" if search else None,
        max_results=PAGE_SIZE,
        page_token=page_token or None,
    )
    base = {"name": search or None}
    next_link = (
        {**base, "page_token": page.next_page_token, "prev": [*earlier, page_token or ""]}
        if page.next_page_token
        else None
    )
    prev_link = None
    if page_token:
        prev_link = {**base, "page_token": earlier[-1] if earlier else None, "prev": earlier[:-1]}
    return render(
        request,
        "models.html",
        models=page.items,
        search=search,
        next_link=next_link,
        prev_link=prev_link,
        page_number=len(earlier) + 1 if page_token else 1,
    )


def _runs(store: Store, versions: list[ModelVersion]) -> dict[str, Run]:
    runs: dict[str, Run] = {}
    for version in versions[:MAX_RUN_NAMES]:
        if version.run_id and version.run_id not in runs:
            try:
                runs[version.run_id] = store.get_run(version.run_id)
            except NotFoundError:
                continue
    return runs


def _packages(blob_store: BlobStore, versions: list[ModelVersion]) -> dict[int, Package | None]:
    return {version.version: read_package(blob_store, version) for version in versions}


def _plots(evaluations: list[Evaluation]) -> list[tuple[Evaluation, str]]:
    return [(e, plot) for e in evaluations for plot in sorted(e.plots)][:MAX_PLOTS]


def _history(events: list[AliasEvent]) -> list[AliasEvent]:
    return sorted(events, key=lambda event: event.created_at, reverse=True)


@router.get("/models/{name}", summary="A registered model")
def model_page(request: Request, name: str, store: StoreDep, blob_store: BlobStoreDep) -> Response:
    model = store.get_registered_model(name)
    versions = store.list_model_versions(model.name)[::-1]  # newest first
    evaluations = store.list_evaluations(model.name)
    drawn = versions[:MAX_LINEAGE_VERSIONS]
    graph = lineage_graph(store, drawn, model.aliases, _packages(blob_store, drawn))
    return render(
        request,
        "model.html",
        model=model,
        versions=versions[:MAX_VERSIONS],
        version_count=len(versions),
        runs=_runs(store, versions),
        alias_events=_history(store.list_alias_events(model.name)),
        groups=evaluation_groups(evaluations),
        evaluation_count=len(evaluations),
        plots=_plots(evaluations),
        decisions=store.list_promotion_decisions(model.name),
        lineage=layout(graph),
        lineage_drawn=len(drawn),
        lineage_cut=max(0, len(versions) - len(drawn)),
    )


def _involves(decision: PromotionDecision, number: int) -> bool:
    return number in (decision.candidate_version, decision.incumbent_version)


@router.get("/models/{name}/{ref}", summary="One model version")
def version_page(
    request: Request, name: str, ref: str, store: StoreDep, blob_store: BlobStoreDep
) -> Response:
    wanted = normalize_model_ref(ref)
    version = store.get_model_version(name, wanted)
    model = store.get_registered_model(version.name)
    package = read_package(blob_store, version)
    run: Run | None = None
    if version.run_id:
        try:
            run = store.get_run(version.run_id)
        except NotFoundError:
            run = None
    graph = lineage_graph(store, [version], model.aliases, {version.version: package})
    number = version.version
    events = store.list_alias_events(model.name)
    evaluations = store.list_evaluations(model.name, number)
    return render(
        request,
        "model_version.html",
        model=model,
        version=version,
        # Reached through an alias or "latest": say which version that is today.
        via=None if isinstance(wanted, int) else (wanted or "latest"),
        package=package,
        run=run,
        example=input_example(store, blob_store, version, package),
        groups=evaluation_groups(evaluations),
        plots=_plots(evaluations),
        decisions=[d for d in store.list_promotion_decisions(model.name) if _involves(d, number)],
        alias_events=_history([e for e in events if number in (e.from_version, e.to_version)]),
        lineage=layout(graph),
    )
