"""``/api/v1/runs``: create, read, update, delete and search runs; log metrics, params, tags."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from shipyard.entities import Metric, Param, Tag, now_ms
from shipyard.server.deps import ERRORS, NO_CONTENT, CacheDep, IdempotencyKey, StoreDep
from shipyard.server.fastjson import FastJsonResponse, FastJsonRoute
from shipyard.server.schemas import (
    CreateRunBody,
    LogBatchBody,
    MetricColumns,
    MetricHistory,
    RunBody,
    RunKeysBody,
    RunPage,
    SearchRunsBody,
    UpdateRunBody,
)
from shipyard.store.rest.codec import history_to_json, page_to_json, run_to_json

__all__ = ["router"]

# Metric batches are the largest bodies: FastJsonRoute parses them faster.
router = APIRouter(
    prefix="/api/v1/runs", tags=["runs"], responses=ERRORS, route_class=FastJsonRoute
)


@router.post("", status_code=201, response_model=RunBody, summary="Start a run")
def create_run(
    body: CreateRunBody,
    store: StoreDep,
    cache: CacheDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    answer = cache.run(
        idempotency_key,
        "create_run",
        body.model_dump_json(),
        lambda: run_to_json(
            store.create_run(
                body.experiment_id,
                name=body.name,
                tags=body.tags,
                parent_run_id=body.parent_run_id,
                start_time=body.start_time,
                user=body.user,
            )
        ),
    )
    return JSONResponse(answer, status_code=201)


@router.post("/search", response_model=RunPage, summary="Search runs with the filter language")
def search_runs(body: SearchRunsBody, store: StoreDep) -> Response:
    page = store.search_runs(
        body.experiment_ids,
        filter_string=body.filter,
        order_by=body.order_by,
        view=body.view,
        max_results=body.max_results,
        page_token=body.page_token,
    )
    return FastJsonResponse(page_to_json(page, "runs", run_to_json))


@router.get(
    "/keys",
    response_model=RunKeysBody,
    summary="Distinct metric, param and tag keys of the active runs of some experiments",
)
def list_run_keys(
    store: StoreDep,
    experiment_id: Annotated[
        list[str] | None, Query(description="Experiments to look at; none means all")
    ] = None,
) -> Response:
    keys = store.list_run_keys(experiment_id or [])
    return JSONResponse(
        RunKeysBody(metrics=keys.metrics, params=keys.params, tags=keys.tags).model_dump()
    )


@router.get("/{run_id}", response_model=RunBody, summary="Get a run with its latest metrics")
def get_run(run_id: str, store: StoreDep) -> Response:
    return FastJsonResponse(run_to_json(store.get_run(run_id)))


@router.patch("/{run_id}", response_model=RunBody, summary="Change a run's status, end or name")
def update_run(run_id: str, body: UpdateRunBody, store: StoreDep) -> Response:
    run = store.update_run(run_id, status=body.status, end_time=body.end_time, name=body.name)
    return JSONResponse(run_to_json(run))


@router.delete("/{run_id}", status_code=NO_CONTENT, summary="Delete a run (soft)")
def delete_run(run_id: str, store: StoreDep) -> Response:
    store.delete_run(run_id)
    return Response(status_code=NO_CONTENT)


@router.post("/{run_id}/restore", status_code=NO_CONTENT, summary="Restore a deleted run")
def restore_run(run_id: str, store: StoreDep) -> Response:
    store.restore_run(run_id)
    return Response(status_code=NO_CONTENT)


@router.post(
    "/{run_id}/log-batch",
    status_code=NO_CONTENT,
    summary="Log metrics, params and tags in one transaction",
)
def log_batch(
    run_id: str,
    body: LogBatchBody,
    store: StoreDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    now = now_ms()
    params = [Param(p.key, p.value) for p in body.params]
    tags = [Tag(t.key, t.value) for t in body.tags]
    columns = body.metrics
    if isinstance(columns, MetricColumns):
        count = len(columns.keys)
        steps = [0] * count if columns.steps is None else columns.steps
        timestamps = [now] * count if columns.timestamps is None else columns.timestamps
        if not params and not tags:
            store.log_metric_columns(
                run_id, columns.keys, columns.values, steps, timestamps, idempotency_key
            )
            return Response(status_code=NO_CONTENT)
        metrics = list(map(Metric, columns.keys, columns.values, steps, timestamps))
    else:
        metrics = [
            Metric(m.key, m.value, m.step, now if m.timestamp is None else m.timestamp)
            for m in columns
        ]
    store.log_batch(
        run_id, metrics=metrics, params=params, tags=tags, idempotency_key=idempotency_key
    )
    return Response(status_code=NO_CONTENT)


@router.delete("/{run_id}/tags", status_code=NO_CONTENT, summary="Delete a run tag")
def delete_tag(run_id: str, store: StoreDep, key: Annotated[str, Query()]) -> Response:
    store.delete_tag(run_id, key)
    return Response(status_code=NO_CONTENT)


@router.get(
    "/{run_id}/metrics/history",
    response_model=MetricHistory,
    summary="One metric's history, optionally downsampled",
)
def get_metric_history(
    run_id: str,
    store: StoreDep,
    key: Annotated[str, Query()],
    max_points: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    points = store.get_metric_history(run_id, key, max_points=max_points)
    return FastJsonResponse(history_to_json(key, points))
