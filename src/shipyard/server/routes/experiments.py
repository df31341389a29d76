"""``/api/v1/experiments``: create, read, list, rename, delete, restore and tag experiments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from shipyard.entities import ViewType
from shipyard.server.deps import ERRORS, NO_CONTENT, CacheDep, IdempotencyKey, StoreDep
from shipyard.server.schemas import (
    CreateExperimentBody,
    ExperimentBody,
    ExperimentPage,
    RenameExperimentBody,
    SetTagBody,
)
from shipyard.store.base import DEFAULT_PAGE_SIZE
from shipyard.store.rest.codec import experiment_to_json, page_to_json

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/experiments", tags=["experiments"], responses=ERRORS)


@router.post("", status_code=201, response_model=ExperimentBody, summary="Create an experiment")
def create_experiment(
    body: CreateExperimentBody,
    store: StoreDep,
    cache: CacheDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    answer = cache.run(
        idempotency_key,
        "create_experiment",
        body.model_dump_json(),
        lambda: experiment_to_json(store.create_experiment(body.name, body.tags)),
    )
    return JSONResponse(answer, status_code=201)


@router.get("", response_model=ExperimentPage, summary="List experiments ordered by name")
def list_experiments(
    store: StoreDep,
    view: ViewType = ViewType.ACTIVE,
    max_results: int = DEFAULT_PAGE_SIZE,
    page_token: str | None = None,
) -> Response:
    page = store.list_experiments(view, max_results, page_token)
    return JSONResponse(page_to_json(page, "experiments", experiment_to_json))


@router.get("/by-name", response_model=ExperimentBody, summary="The experiment with a name")
def get_experiment_by_name(store: StoreDep, name: Annotated[str, Query()]) -> Response:
    return JSONResponse(experiment_to_json(store.get_experiment_by_name(name)))


@router.get("/{experiment_id}", response_model=ExperimentBody, summary="Get an experiment")
def get_experiment(experiment_id: str, store: StoreDep) -> Response:
    return JSONResponse(experiment_to_json(store.get_experiment(experiment_id)))


@router.patch("/{experiment_id}", response_model=ExperimentBody, summary="Rename an experiment")
def rename_experiment(experiment_id: str, body: RenameExperimentBody, store: StoreDep) -> Response:
    return JSONResponse(experiment_to_json(store.rename_experiment(experiment_id, body.name)))


@router.delete("/{experiment_id}", status_code=NO_CONTENT, summary="Delete an experiment (soft)")
def delete_experiment(experiment_id: str, store: StoreDep) -> Response:
    store.delete_experiment(experiment_id)
    return Response(status_code=NO_CONTENT)


@router.post(
    "/{experiment_id}/restore", status_code=NO_CONTENT, summary="Restore a deleted experiment"
)
def restore_experiment(experiment_id: str, store: StoreDep) -> Response:
    store.restore_experiment(experiment_id)
    return Response(status_code=NO_CONTENT)


@router.put("/{experiment_id}/tags", status_code=NO_CONTENT, summary="Set an experiment tag")
def set_experiment_tag(experiment_id: str, body: SetTagBody, store: StoreDep) -> Response:
    store.set_experiment_tag(experiment_id, body.key, body.value)
    return Response(status_code=NO_CONTENT)


@router.delete("/{experiment_id}/tags", status_code=NO_CONTENT, summary="Delete an experiment tag")
def delete_experiment_tag(
    experiment_id: str, store: StoreDep, key: Annotated[str, Query()]
) -> Response:
    store.delete_experiment_tag(experiment_id, key)
    return Response(status_code=NO_CONTENT)
