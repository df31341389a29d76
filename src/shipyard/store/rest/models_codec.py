"""Model registry entities to JSON and back, for the server and RestStore alike.

An evaluation's metrics may be NaN or infinite; they travel as the strings
``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` (see :mod:`shipyard.store.rest.codec`).
"""

from __future__ import annotations

from typing import Any

from shipyard.entities import (
    AliasEvent,
    Evaluation,
    ModelVersion,
    ModelVersionStatus,
    PromotionDecision,
    RegisteredModel,
)
from shipyard.store.rest.codec import decode_float, encode_float

__all__ = [
    "alias_event_from_json",
    "alias_event_to_json",
    "evaluation_from_json",
    "evaluation_to_json",
    "model_version_from_json",
    "model_version_to_json",
    "promotion_decision_from_json",
    "promotion_decision_to_json",
    "registered_model_from_json",
    "registered_model_to_json",
]


def registered_model_to_json(model: RegisteredModel) -> dict[str, Any]:
    return {
        "name": model.name,
        "description": model.description,
        "created_at": model.created_at,
        "updated_at": model.updated_at,
        "tags": dict(model.tags),
        "aliases": dict(model.aliases),
        "latest_version": model.latest_version,
    }


def registered_model_from_json(data: dict[str, Any]) -> RegisteredModel:
    return RegisteredModel(
        name=data["name"],
        description=data.get("description"),
        created_at=data["created_at"],
        updated_at=data["updated_at"],
        tags=dict(data.get("tags") or {}),
        aliases=dict(data.get("aliases") or {}),
        latest_version=data.get("latest_version"),
    )


def model_version_to_json(version: ModelVersion) -> dict[str, Any]:
    return {
        "name": version.name,
        "version": version.version,
        "uri": version.uri,
        "source": version.source,
        "run_id": version.run_id,
        "package_digest": version.package_digest,
        "flavor": version.flavor,
        "description": version.description,
        "user": version.user,
        "created_at": version.created_at,
        "updated_at": version.updated_at,
        "status": version.status.value,
        "tags": dict(version.tags),
        "aliases": list(version.aliases),
    }


def model_version_from_json(data: dict[str, Any]) -> ModelVersion:
    return ModelVersion(
        name=data["name"],
        version=data["version"],
        source=data["source"],
        run_id=data.get("run_id"),
        package_digest=data["package_digest"],
        flavor=data.get("flavor"),
        description=data.get("description"),
        user=data.get("user"),
        created_at=data["created_at"],
        updated_at=data["updated_at"],
        status=ModelVersionStatus(data["status"]),
        tags=dict(data.get("tags") or {}),
        aliases=list(data.get("aliases") or []),
    )


def alias_event_to_json(event: AliasEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "name": event.name,
        "alias": event.alias,
        "from_version": event.from_version,
        "to_version": event.to_version,
        "user": event.user,
        "reason": event.reason,
        "created_at": event.created_at,
    }


def alias_event_from_json(data: dict[str, Any]) -> AliasEvent:
    return AliasEvent(
        name=data["name"],
        alias=data["alias"],
        from_version=data.get("from_version"),
        to_version=data.get("to_version"),
        user=data.get("user"),
        reason=data.get("reason"),
        created_at=data["created_at"],
        id=data["id"],
    )


def evaluation_to_json(evaluation: Evaluation) -> dict[str, Any]:
    return {
        "id": evaluation.id,
        "model_uri": evaluation.model_uri,
        "model_name": evaluation.model_name,
        "model_version": evaluation.model_version,
        "dataset": evaluation.dataset,
        "dataset_version": evaluation.dataset_version,
        "task": evaluation.task,
        "target": evaluation.target,
        "metrics": {key: encode_float(value) for key, value in evaluation.metrics.items()},
        "details": evaluation.details,
        "plots": dict(evaluation.plots),
        "row_count": evaluation.row_count,
        "user": evaluation.user,
        "created_at": evaluation.created_at,
    }


def evaluation_from_json(data: dict[str, Any]) -> Evaluation:
    return Evaluation(
        id=data["id"],
        model_uri=data["model_uri"],
        model_name=data.get("model_name"),
        model_version=data.get("model_version"),
        dataset=data.get("dataset"),
        dataset_version=data.get("dataset_version"),
        task=data["task"],
        target=data["target"],
        metrics={key: decode_float(value) for key, value in (data.get("metrics") or {}).items()},
        details=dict(data.get("details") or {}),
        plots=dict(data.get("plots") or {}),
        row_count=data["row_count"],
        user=data.get("user"),
        created_at=data["created_at"],
    )


def promotion_decision_to_json(decision: PromotionDecision) -> dict[str, Any]:
    return {
        "id": decision.id,
        "name": decision.name,
        "alias": decision.alias,
        "candidate_version": decision.candidate_version,
        "incumbent_version": decision.incumbent_version,
        "metric": decision.metric,
        "greater_is_better": decision.greater_is_better,
        "candidate_score": decision.candidate_score,
        "incumbent_score": decision.incumbent_score,
        "min_delta": decision.min_delta,
        "thresholds": dict(decision.thresholds),
        "promoted": decision.promoted,
        "reason": decision.reason,
        "candidate_evaluation_id": decision.candidate_evaluation_id,
        "incumbent_evaluation_id": decision.incumbent_evaluation_id,
        "dataset": decision.dataset,
        "dataset_version": decision.dataset_version,
        "user": decision.user,
        "created_at": decision.created_at,
    }


def promotion_decision_from_json(data: dict[str, Any]) -> PromotionDecision:
    incumbent_score = data.get("incumbent_score")
    return PromotionDecision(
        id=data["id"],
        name=data["name"],
        alias=data["alias"],
        candidate_version=data["candidate_version"],
        incumbent_version=data.get("incumbent_version"),
        metric=data["metric"],
        greater_is_better=data["greater_is_better"],
        candidate_score=float(data["candidate_score"]),
        incumbent_score=None if incumbent_score is None else float(incumbent_score),
        min_delta=float(data["min_delta"]),
        thresholds={key: float(value) for key, value in (data.get("thresholds") or {}).items()},
        promoted=data["promoted"],
        reason=data["reason"],
        candidate_evaluation_id=data["candidate_evaluation_id"],
        incumbent_evaluation_id=data.get("incumbent_evaluation_id"),
        dataset=data.get("dataset"),
        dataset_version=data.get("dataset_version"),
        user=data.get("user"),
        created_at=data["created_at"],
    )
