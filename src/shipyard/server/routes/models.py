"""``/api/v1/models``: registered models, versions, aliases (with their audit trail),
evaluations and promotion decisions; ``/api/v1/evaluations``;
``/api/v1/references/model-digests`` (what ``shipyard gc`` must keep for the registry).

A version's package and an evaluation's plots are blobs: the client uploads
them first. The server refuses a version whose package manifest blob, or an
evaluation whose plot blob, it does not hold, so no record points at missing bytes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from shipyard.entities import ModelVersionStatus
from shipyard.errors import InvalidInputError
from shipyard.server.deps import (
    ERRORS,
    NO_CONTENT,
    BlobStoreDep,
    CacheDep,
    IdempotencyKey,
    StoreDep,
)
from shipyard.server.schemas import SetTagBody
from shipyard.server.schemas_datasets import DigestList
from shipyard.server.schemas_models import (
    AliasEventBody,
    AliasEventList,
    CreateModelVersionBody,
    CreateRegisteredModelBody,
    EvaluationBody,
    EvaluationList,
    LogEvaluationBody,
    LogPromotionDecisionBody,
    ModelVersionBody,
    ModelVersionList,
    PromotionDecisionBody,
    PromotionDecisionList,
    RegisteredModelBody,
    RegisteredModelPage,
    SetAliasBody,
    UpdateModelVersionBody,
    UpdateRegisteredModelBody,
)
from shipyard.store.base import DEFAULT_PAGE_SIZE, BlobStore
from shipyard.store.hashing import validate_digest
from shipyard.store.rest.codec import page_to_json
from shipyard.store.rest.models_codec import (
    alias_event_to_json,
    evaluation_to_json,
    model_version_to_json,
    promotion_decision_to_json,
    registered_model_to_json,
)

__all__ = ["router"]

_models = APIRouter(prefix="/models", tags=["models"])
_evaluations = APIRouter(prefix="/evaluations", tags=["models"])
_references = APIRouter(prefix="/references", tags=["gc"])

_VERSION = "/{name}/versions/{version}"


def _require_blob(blob_store: BlobStore, digest: object, what: str) -> str:
    checked = validate_digest(digest, f"{what} digest")
    if not blob_store.exists(checked):
        raise InvalidInputError(f"{what} blob {checked} is not stored; upload it first")
    return checked


# -- registered models -----------------------------------------------------------
@_models.post(
    "", status_code=201, response_model=RegisteredModelBody, summary="Register a model name"
)
def create_registered_model(
    body: CreateRegisteredModelBody,
    store: StoreDep,
    cache: CacheDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    answer = cache.run(
        idempotency_key,
        "create_registered_model",
        body.model_dump_json(),
        lambda: registered_model_to_json(
            store.create_registered_model(body.name, body.description, body.tags)
        ),
    )
    return JSONResponse(answer, status_code=201)


@_models.get("", response_model=RegisteredModelPage, summary="List models ordered by name")
def list_registered_models(
    store: StoreDep,
    name_like: Annotated[
        str | None, Query(description="Case-insensitive SQL LIKE pattern (% and _)")
    ] = None,
    max_results: int = DEFAULT_PAGE_SIZE,
    page_token: str | None = None,
) -> Response:
    page = store.list_registered_models(name_like, max_results, page_token)
    return JSONResponse(page_to_json(page, "registered_models", registered_model_to_json))


@_models.get("/{name}", response_model=RegisteredModelBody, summary="A registered model")
def get_registered_model(name: str, store: StoreDep) -> Response:
    return JSONResponse(registered_model_to_json(store.get_registered_model(name)))


@_models.patch("/{name}", response_model=RegisteredModelBody, summary="Set the description")
def update_registered_model(
    name: str, body: UpdateRegisteredModelBody, store: StoreDep
) -> Response:
    model = store.update_registered_model(name, body.description)
    return JSONResponse(registered_model_to_json(model))


@_models.put("/{name}/tags", status_code=NO_CONTENT, summary="Tag a model")
def set_registered_model_tag(name: str, body: SetTagBody, store: StoreDep) -> Response:
    store.set_registered_model_tag(name, body.key, body.value)
    return Response(status_code=NO_CONTENT)


@_models.delete("/{name}/tags", status_code=NO_CONTENT, summary="Untag a model")
def delete_registered_model_tag(
    name: str, store: StoreDep, key: Annotated[str, Query()]
) -> Response:
    store.delete_registered_model_tag(name, key)
    return Response(status_code=NO_CONTENT)


# -- versions --------------------------------------------------------------------
@_models.post(
    "/{name}/versions",
    status_code=201,
    response_model=ModelVersionBody,
    summary="Register a package as the model's next version (the model is created if new)",
)
def create_model_version(
    name: str,
    body: CreateModelVersionBody,
    store: StoreDep,
    blob_store: BlobStoreDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    digest = _require_blob(blob_store, body.package_digest, "package manifest")
    version = store.create_model_version(
        name,
        body.source,
        digest,
        run_id=body.run_id,
        flavor=body.flavor,
        description=body.description,
        tags=body.tags,
        user=body.user,
        idempotency_key=idempotency_key,
    )
    return JSONResponse(model_version_to_json(version), status_code=201)


@_models.get(
    "/{name}/versions", response_model=ModelVersionList, summary="A model's versions, oldest first"
)
def list_model_versions(
    name: str, store: StoreDep, status: ModelVersionStatus | None = None
) -> Response:
    versions = store.list_model_versions(name, status)
    return JSONResponse({"versions": [model_version_to_json(v) for v in versions]})


@_models.get(
    "/{name}/versions/{ref}",
    response_model=ModelVersionBody,
    summary="One version by number, alias or 'latest' (the newest READY version)",
)
def get_model_version(name: str, ref: str, store: StoreDep) -> Response:
    return JSONResponse(model_version_to_json(store.get_model_version(name, ref)))


@_models.patch(
    _VERSION, response_model=ModelVersionBody, summary="Change the description or the status"
)
def update_model_version(
    name: str, version: int, body: UpdateModelVersionBody, store: StoreDep
) -> Response:
    updated = store.update_model_version(name, version, body.description, body.status)
    return JSONResponse(model_version_to_json(updated))


@_models.put(f"{_VERSION}/tags", status_code=NO_CONTENT, summary="Tag a version")
def set_model_version_tag(name: str, version: int, body: SetTagBody, store: StoreDep) -> Response:
    store.set_model_version_tag(name, version, body.key, body.value)
    return Response(status_code=NO_CONTENT)


@_models.delete(f"{_VERSION}/tags", status_code=NO_CONTENT, summary="Untag a version")
def delete_model_version_tag(
    name: str, version: int, store: StoreDep, key: Annotated[str, Query()]
) -> Response:
    store.delete_model_version_tag(name, version, key)
    return Response(status_code=NO_CONTENT)


# -- aliases ---------------------------------------------------------------------
@_models.put(
    "/{name}/aliases/{alias}",
    response_model=AliasEventBody,
    summary="Point an alias at a version (moving it) and record the move",
)
def set_model_alias(name: str, alias: str, body: SetAliasBody, store: StoreDep) -> Response:
    event = store.set_model_alias(name, alias, body.version, body.user, body.reason)
    return JSONResponse(alias_event_to_json(event))


@_models.delete(
    "/{name}/aliases/{alias}",
    response_model=AliasEventBody,
    summary="Remove an alias and record it",
)
def delete_model_alias(
    name: str,
    alias: str,
    store: StoreDep,
    user: str | None = None,
    reason: str | None = None,
) -> Response:
    return JSONResponse(alias_event_to_json(store.delete_model_alias(name, alias, user, reason)))


@_models.get(
    "/{name}/alias-events",
    response_model=AliasEventList,
    summary="The audit trail of the model's aliases, oldest first",
)
def list_alias_events(name: str, store: StoreDep, alias: str | None = None) -> Response:
    events = store.list_alias_events(name, alias)
    return JSONResponse({"events": [alias_event_to_json(e) for e in events]})


# -- evaluations -----------------------------------------------------------------
@_evaluations.post(
    "", status_code=201, response_model=EvaluationBody, summary="Store an evaluation"
)
def log_evaluation(
    body: LogEvaluationBody,
    store: StoreDep,
    blob_store: BlobStoreDep,
    cache: CacheDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    for plot, digest in body.plots.items():
        _require_blob(blob_store, digest, f"plot {plot!r}")

    def log() -> dict[str, Any]:
        evaluation = store.log_evaluation(
            body.model_uri,
            body.task,
            body.target,
            body.metrics,
            body.details,
            body.plots,
            body.row_count,
            model_name=body.model_name,
            model_version=body.model_version,
            dataset=body.dataset,
            dataset_version=body.dataset_version,
            user=body.user,
        )
        return evaluation_to_json(evaluation)

    answer = cache.run(idempotency_key, "log_evaluation", body.model_dump_json(), log)
    return JSONResponse(answer, status_code=201)


@_evaluations.get("/{evaluation_id}", response_model=EvaluationBody, summary="An evaluation")
def get_evaluation(evaluation_id: str, store: StoreDep) -> Response:
    return JSONResponse(evaluation_to_json(store.get_evaluation(evaluation_id)))


@_models.get(
    "/{name}/evaluations",
    response_model=EvaluationList,
    summary="Evaluations of the model's versions (or one version), newest first",
)
def list_evaluations(name: str, store: StoreDep, version: int | None = None) -> Response:
    evaluations = store.list_evaluations(name, version)
    return JSONResponse({"evaluations": [evaluation_to_json(e) for e in evaluations]})


# -- promotion decisions ---------------------------------------------------------
@_models.post(
    "/{name}/promotions",
    status_code=201,
    response_model=PromotionDecisionBody,
    summary="Record a promotion gate's decision (it does not move the alias)",
)
def log_promotion_decision(
    name: str,
    body: LogPromotionDecisionBody,
    store: StoreDep,
    cache: CacheDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    def log() -> dict[str, Any]:
        decision = store.log_promotion_decision(
            name,
            body.alias,
            body.candidate_version,
            body.incumbent_version,
            body.metric,
            body.greater_is_better,
            body.candidate_score,
            body.incumbent_score,
            body.min_delta,
            body.thresholds,
            body.promoted,
            body.reason,
            body.candidate_evaluation_id,
            body.incumbent_evaluation_id,
            dataset=body.dataset,
            dataset_version=body.dataset_version,
            user=body.user,
        )
        return promotion_decision_to_json(decision)

    fingerprint = f"{name}\x00{body.model_dump_json()}"
    answer = cache.run(idempotency_key, "log_promotion_decision", fingerprint, log)
    return JSONResponse(answer, status_code=201)


@_models.get(
    "/{name}/promotions",
    response_model=PromotionDecisionList,
    summary="The model's promotion decisions, newest first",
)
def list_promotion_decisions(name: str, store: StoreDep, alias: str | None = None) -> Response:
    decisions = store.list_promotion_decisions(name, alias)
    return JSONResponse({"decisions": [promotion_decision_to_json(d) for d in decisions]})


# -- garbage collection ----------------------------------------------------------
@_references.get(
    "/model-digests",
    response_model=DigestList,
    summary="Package manifest digests of every model version and every evaluation plot digest",
)
def model_referenced_digests(store: StoreDep) -> Response:
    return JSONResponse({"digests": sorted(store.model_referenced_digests())})


router = APIRouter(prefix="/api/v1", responses=ERRORS)
router.include_router(_models)
router.include_router(_evaluations)
router.include_router(_references)
