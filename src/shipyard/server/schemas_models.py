"""Request and response bodies of the model registry endpoints (see
:mod:`shipyard.server.schemas`).

Requests validate types only; the Store checks content so that every entry
point refuses the same things.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, StrictBool, StrictFloat, StrictInt

from shipyard.entities import ModelVersionStatus
from shipyard.server.schemas import MetricValue, StrictStr, StrMap

__all__ = [
    "AliasEventBody",
    "AliasEventList",
    "CreateModelVersionBody",
    "CreateRegisteredModelBody",
    "EvaluationBody",
    "EvaluationList",
    "LogEvaluationBody",
    "LogPromotionDecisionBody",
    "ModelVersionBody",
    "ModelVersionList",
    "PromotionDecisionBody",
    "PromotionDecisionList",
    "RegisteredModelBody",
    "RegisteredModelPage",
    "SetAliasBody",
    "UpdateModelVersionBody",
    "UpdateRegisteredModelBody",
]


# -- registered models -----------------------------------------------------------
class CreateRegisteredModelBody(BaseModel):
    name: StrictStr
    description: StrictStr | None = None
    tags: StrMap | None = None


class UpdateRegisteredModelBody(BaseModel):
    description: StrictStr | None


class RegisteredModelBody(BaseModel):
    name: str
    description: str | None
    created_at: int
    updated_at: int
    tags: dict[str, str]
    aliases: dict[str, int] = Field(description="Each alias and the version it names")
    latest_version: int | None = Field(description="The newest READY version")


class RegisteredModelPage(BaseModel):
    registered_models: list[RegisteredModelBody]
    next_page_token: str | None


# -- versions --------------------------------------------------------------------
class CreateModelVersionBody(BaseModel):
    source: StrictStr = Field(examples=["runs:/0123456789abcdef0123456789abcdef/model"])
    package_digest: StrictStr = Field(
        description="BLAKE3 digest of the package manifest blob, uploaded before this request"
    )
    run_id: StrictStr | None = None
    flavor: StrictStr | None = None
    description: StrictStr | None = None
    tags: StrMap | None = None
    user: StrictStr | None = None


class UpdateModelVersionBody(BaseModel):
    description: StrictStr | None = Field(default=None, description="Unchanged when null")
    status: ModelVersionStatus | None = Field(default=None, description="Unchanged when null")


class ModelVersionBody(BaseModel):
    name: str
    version: int
    uri: str = Field(examples=["models:/digits/3"])
    source: str
    run_id: str | None
    package_digest: str
    flavor: str | None
    description: str | None
    user: str | None
    created_at: int
    updated_at: int
    status: ModelVersionStatus
    tags: dict[str, str]
    aliases: list[str]


class ModelVersionList(BaseModel):
    versions: list[ModelVersionBody]


# -- aliases ---------------------------------------------------------------------
class SetAliasBody(BaseModel):
    version: StrictInt
    user: StrictStr | None = None
    reason: StrictStr | None = None


class AliasEventBody(BaseModel):
    id: str
    name: str
    alias: str
    from_version: int | None = Field(description="null when the alias was first set")
    to_version: int | None = Field(description="null when the alias was removed")
    user: str | None
    reason: str | None
    created_at: int


class AliasEventList(BaseModel):
    events: list[AliasEventBody]


# -- evaluations -----------------------------------------------------------------
class LogEvaluationBody(BaseModel):
    model_uri: StrictStr
    task: StrictStr
    target: StrictStr
    metrics: dict[StrictStr, MetricValue]
    details: dict[str, Any] = Field(default_factory=dict)
    plots: dict[StrictStr, StrictStr] = Field(
        default_factory=dict, description="Plot file name to the digest of its uploaded blob"
    )
    row_count: StrictInt
    model_name: StrictStr | None = None
    model_version: StrictInt | None = None
    dataset: StrictStr | None = None
    dataset_version: StrictInt | None = None
    user: StrictStr | None = None


class EvaluationBody(BaseModel):
    id: str
    model_uri: str
    model_name: str | None
    model_version: int | None
    dataset: str | None
    dataset_version: int | None
    task: str
    target: str
    metrics: dict[str, MetricValue]
    details: dict[str, Any]
    plots: dict[str, str]
    row_count: int
    user: str | None
    created_at: int


class EvaluationList(BaseModel):
    evaluations: list[EvaluationBody]


# -- promotion decisions ---------------------------------------------------------
class LogPromotionDecisionBody(BaseModel):
    alias: StrictStr
    candidate_version: StrictInt
    incumbent_version: StrictInt | None = None
    metric: StrictStr
    greater_is_better: StrictBool
    candidate_score: StrictFloat
    incumbent_score: StrictFloat | None = None
    min_delta: StrictFloat = 0.0
    thresholds: dict[StrictStr, StrictFloat] = Field(default_factory=dict)
    promoted: StrictBool
    reason: StrictStr
    candidate_evaluation_id: StrictStr
    incumbent_evaluation_id: StrictStr | None = None
    dataset: StrictStr | None = None
    dataset_version: StrictInt | None = None
    user: StrictStr | None = None


class PromotionDecisionBody(BaseModel):
    id: str
    name: str
    alias: str
    candidate_version: int
    incumbent_version: int | None
    metric: str
    greater_is_better: bool
    candidate_score: float
    incumbent_score: float | None
    min_delta: float
    thresholds: dict[str, float]
    promoted: bool
    reason: str
    candidate_evaluation_id: str
    incumbent_evaluation_id: str | None
    dataset: str | None
    dataset_version: int | None
    user: str | None
    created_at: int


class PromotionDecisionList(BaseModel):
    decisions: list[PromotionDecisionBody]
