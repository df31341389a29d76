"""Request and response bodies of the REST API, as pydantic models.

Request models validate types only (wrong types answer 400); the Store checks
content (lengths, characters) so that every entry point refuses the same
things. Response models document the answers in ``/openapi.json``; the routes
build the JSON with :mod:`shipyard.store.rest.codec`, the format RestStore reads.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    StrictInt,
    TypeAdapter,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
    model_validator,
)
from pydantic import StrictStr as _StrictStr

from shipyard.entities import LifecycleStage, RunStatus, ViewType
from shipyard.store.base import DEFAULT_PAGE_SIZE
from shipyard.store.rest.codec import NON_FINITE
from shipyard.validation import MAX_BATCH_METRICS, MAX_BATCH_PARAMS, MAX_BATCH_TAGS


def _utf8(text: str) -> str:
    # JSON may spell a lone surrogate ("\\ud800"): no database or encoder accepts one.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text is not valid Unicode: it holds a lone surrogate") from None
    return text


StrictStr = Annotated[_StrictStr, AfterValidator(_utf8)]


def _metric_value(value: Any) -> float:
    if isinstance(value, str):
        if value in NON_FINITE:
            return NON_FINITE[value]
        raise ValueError("must be a number or one of 'NaN', 'Infinity', '-Infinity'")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number or one of 'NaN', 'Infinity', '-Infinity'")
    try:
        return float(value)
    except OverflowError:
        raise ValueError("is too large for a 64-bit float") from None


_VALUE_SCHEMA: dict[str, Any] = {
    "anyOf": [{"type": "number"}, {"type": "string", "enum": list(NON_FINITE)}],
    "description": "A number; NaN and infinities travel as 'NaN', 'Infinity', '-Infinity'.",
}

MetricValue = Annotated[float, BeforeValidator(_metric_value), WithJsonSchema(_VALUE_SCHEMA)]
# Free-form string maps (tags): keys and values are checked by the Store.
StrMap = dict[StrictStr, StrictStr]

__all__ = [
    "ArtifactEntryBody",
    "ArtifactList",
    "CreateExperimentBody",
    "CreateRunBody",
    "ErrorBody",
    "ErrorDetail",
    "ExperimentBody",
    "ExperimentPage",
    "Health",
    "KeyValue",
    "LogArtifactsBody",
    "LogBatchBody",
    "MetricBody",
    "MetricColumns",
    "MetricHistory",
    "MetricIn",
    "RenameExperimentBody",
    "RunBody",
    "RunKeysBody",
    "RunPage",
    "SearchRunsBody",
    "SetTagBody",
    "UpdateRunBody",
]


# -- shared --------------------------------------------------------------------
class ErrorDetail(BaseModel):
    code: str = Field(examples=["NOT_FOUND"])
    message: str
    position: int | None = Field(
        default=None, description="0-based offset of a filter's syntax error"
    )


class ErrorBody(BaseModel):
    """The one error shape every endpoint answers with."""

    error: ErrorDetail


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class SetTagBody(BaseModel):
    key: StrictStr
    value: StrictStr


# -- experiments ---------------------------------------------------------------
class CreateExperimentBody(BaseModel):
    name: StrictStr
    tags: StrMap | None = None


class RenameExperimentBody(BaseModel):
    name: StrictStr


class ExperimentBody(BaseModel):
    id: str
    name: str
    lifecycle_stage: LifecycleStage
    created_at: int
    updated_at: int
    tags: dict[str, str]


class ExperimentPage(BaseModel):
    experiments: list[ExperimentBody]
    next_page_token: str | None


# -- runs ----------------------------------------------------------------------
class MetricIn(BaseModel):
    key: StrictStr
    value: MetricValue
    step: StrictInt = 0
    timestamp: StrictInt | None = Field(
        default=None, description="ms since the epoch; now if unset"
    )


# Checked by MetricColumns' validator in one pass over the column, not item by item.
_ColumnValue = Annotated[Any, WithJsonSchema(_VALUE_SCHEMA)]


class MetricColumns(BaseModel):
    """Metric points by column: point ``i`` is ``keys[i]``, ``values[i]``, ``steps[i]``,
    ``timestamps[i]``. A third of the bytes of a list of points, and validated as
    four lists rather than one object per point."""

    keys: list[_StrictStr] = Field(max_length=MAX_BATCH_METRICS)
    values: list[_ColumnValue] = Field(max_length=MAX_BATCH_METRICS)
    steps: list[StrictInt] | None = Field(
        default=None, max_length=MAX_BATCH_METRICS, description="0 for every point if unset"
    )
    timestamps: list[StrictInt] | None = Field(
        default=None,
        max_length=MAX_BATCH_METRICS,
        description="ms since the epoch; now for every point if unset",
    )

    @model_validator(mode="after")
    def _check_columns(self) -> MetricColumns:
        count = len(self.keys)
        for name in ("values", "steps", "timestamps"):
            column = getattr(self, name)
            if column is not None and len(column) != count:
                raise ValueError(
                    f"{name} has {len(column)} items but keys has {count}: "
                    "every column needs one item per point"
                )
        if set(map(type, self.values)) != {float}:
            self.values = [_column_value(value, index) for index, value in enumerate(self.values)]
        return self


def _column_value(value: Any, index: int) -> float:
    try:
        return _metric_value(value)
    except ValueError as exc:
        raise ValueError(f"values[{index}] {exc}, got {str(value)[:50]!r}") from None


class KeyValue(BaseModel):
    key: StrictStr
    value: StrictStr


def _metrics_form(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    # An object is the columnar form and anything else the list form: each is
    # validated alone, so an error names the field without a union's branch names.
    if isinstance(value, dict):
        return _COLUMNS.validate_python(value)
    return _POINTS.validate_python(value)


_COLUMNS = TypeAdapter(MetricColumns)
_POINTS = TypeAdapter(Annotated[list[MetricIn], Field(max_length=MAX_BATCH_METRICS)])


class LogBatchBody(BaseModel):
    metrics: Annotated[
        Annotated[list[MetricIn], Field(max_length=MAX_BATCH_METRICS)] | MetricColumns,
        WrapValidator(_metrics_form),
    ] = Field(
        default_factory=list,
        description="A list of points, or the same points by column (faster to send and store)",
    )
    params: list[KeyValue] = Field(default_factory=list, max_length=MAX_BATCH_PARAMS)
    tags: list[KeyValue] = Field(default_factory=list, max_length=MAX_BATCH_TAGS)


class CreateRunBody(BaseModel):
    experiment_id: StrictStr
    name: StrictStr | None = None
    tags: StrMap | None = None
    parent_run_id: StrictStr | None = None
    start_time: StrictInt | None = None
    user: StrictStr | None = None


class UpdateRunBody(BaseModel):
    status: RunStatus | None = None
    end_time: StrictInt | None = None
    name: StrictStr | None = None


class MetricBody(BaseModel):
    key: str
    value: MetricValue
    step: int
    timestamp: int


class RunBody(BaseModel):
    id: str
    experiment_id: str
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None
    lifecycle_stage: LifecycleStage
    parent_run_id: str | None
    user: str | None
    params: dict[str, str]
    tags: dict[str, str]
    metrics: dict[str, MetricBody] = Field(description="The latest point of each metric")


class RunPage(BaseModel):
    runs: list[RunBody]
    next_page_token: str | None


class SearchRunsBody(BaseModel):
    experiment_ids: list[StrictStr] = Field(
        default_factory=list, description="Experiments to search; empty means all"
    )
    filter: StrictStr | None = Field(
        default=None, examples=["metrics.accuracy > 0.95 and params.model = 'svm'"]
    )
    order_by: list[StrictStr] | None = Field(default=None, examples=[["metrics.accuracy DESC"]])
    view: ViewType = ViewType.ACTIVE
    max_results: StrictInt = DEFAULT_PAGE_SIZE
    page_token: StrictStr | None = None


class RunKeysBody(BaseModel):
    """Distinct keys of the active runs of some experiments, each list sorted by code point."""

    metrics: list[str] = Field(description="Metric keys, at most 1000")
    params: list[str] = Field(description="Param keys, at most 1000")
    tags: list[str] = Field(description="Tag keys, at most 1000")


class MetricHistory(BaseModel):
    """One metric's points in columns, ordered by (step, timestamp)."""

    key: str
    steps: list[int]
    timestamps: list[int]
    values: list[MetricValue]


# -- artifacts -----------------------------------------------------------------
class ArtifactEntryBody(BaseModel):
    path: StrictStr
    size: StrictInt
    digest: StrictStr


class LogArtifactsBody(BaseModel):
    entries: list[ArtifactEntryBody]


class ArtifactList(BaseModel):
    artifacts: list[ArtifactEntryBody]
