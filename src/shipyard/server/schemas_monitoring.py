"""Request and response bodies of the monitoring endpoints (see :mod:`shipyard.server.schemas`).

Requests validate types only; the Store checks content so that every entry
point refuses the same things.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, StrictBool, StrictFloat, StrictInt

from shipyard.server.schemas import StrictStr
from shipyard.store.monitoring_checks import MAX_FEEDBACK_ITEMS

__all__ = [
    "AddPredictionLogBatchBody",
    "ClaimBody",
    "ClaimedBody",
    "CreateMonitorBody",
    "CreateReportBody",
    "DeletedBody",
    "FeedbackBody",
    "FeedbackItemBody",
    "FeedbackList",
    "FeedbackLookupBody",
    "LogFeedbackBody",
    "ModelNameList",
    "MonitorBody",
    "MonitorList",
    "PredictionLogBatchBody",
    "PredictionLogBatchList",
    "RecordedBody",
    "ReportBody",
    "ReportPage",
    "UpdateMonitorBody",
]


class AddPredictionLogBatchBody(BaseModel):
    model_name: StrictStr
    model_version: StrictInt | None = None
    min_timestamp: StrictInt
    max_timestamp: StrictInt
    row_count: StrictInt
    digest: StrictStr = Field(description="BLAKE3 digest of the Parquet file, uploaded first")
    size: StrictInt


class PredictionLogBatchBody(BaseModel):
    id: str
    model_name: str
    model_version: int | None
    min_timestamp: int
    max_timestamp: int
    row_count: int
    digest: str
    size: int
    created_at: int


class PredictionLogBatchList(BaseModel):
    batches: list[PredictionLogBatchBody]


class ModelNameList(BaseModel):
    models: list[str]


class DeletedBody(BaseModel):
    deleted: int


class FeedbackItemBody(BaseModel):
    request_id: StrictStr
    label: Any = Field(description="The true label: any JSON value but null")


class LogFeedbackBody(BaseModel):
    model_name: StrictStr | None = Field(
        default=None, description="The model that answered; null: whichever answered the request"
    )
    items: list[FeedbackItemBody] = Field(max_length=MAX_FEEDBACK_ITEMS)


class RecordedBody(BaseModel):
    recorded: int


class FeedbackLookupBody(BaseModel):
    model_name: StrictStr
    request_ids: list[StrictStr] = Field(max_length=MAX_FEEDBACK_ITEMS)


class FeedbackBody(BaseModel):
    model_name: str | None
    request_id: str
    label: Any
    created_at: int


class FeedbackList(BaseModel):
    feedback: list[FeedbackBody]


class CreateMonitorBody(BaseModel):
    model_uri: StrictStr
    every_seconds: StrictInt
    webhook: StrictStr | None = None
    thresholds: dict[StrictStr, Any] | None = None
    config: dict[StrictStr, Any] | None = None
    enabled: StrictBool = True
    next_run_at: StrictInt | None = None


class UpdateMonitorBody(BaseModel):
    every_seconds: StrictInt | None = None
    webhook: StrictStr | None = Field(default=None, description='"" removes the webhook')
    thresholds: dict[StrictStr, Any] | None = None
    config: dict[StrictStr, Any] | None = None
    enabled: StrictBool | None = None
    state: StrictStr | None = None


class MonitorBody(BaseModel):
    id: str
    model_uri: str
    every_seconds: int
    webhook: str | None
    thresholds: dict[str, Any]
    config: dict[str, Any]
    state: str
    enabled: bool
    last_run_at: int | None
    next_run_at: int
    created_at: int
    updated_at: int


class MonitorList(BaseModel):
    monitors: list[MonitorBody]


class ClaimBody(BaseModel):
    due_at: StrictInt
    next_run_at: StrictInt


class ClaimedBody(BaseModel):
    claimed: bool


class CreateReportBody(BaseModel):
    model_name: StrictStr
    model_version: StrictInt | None = None
    dataset_drift: StrictBool
    drift_share: StrictFloat | StrictInt | None = None
    summary: dict[StrictStr, Any] = Field(default_factory=dict)
    report_digest: StrictStr
    html_digest: StrictStr | None = None
    monitor_id: StrictStr | None = None
    reference: StrictStr | None = None
    window_start: StrictInt | None = None
    window_end: StrictInt | None = None
    row_count: StrictInt | None = None


class ReportBody(BaseModel):
    id: str
    monitor_id: str | None
    model_name: str
    model_version: int | None
    created_at: int
    dataset_drift: bool
    drift_share: float | None
    summary: dict[str, Any]
    report_digest: str
    html_digest: str | None
    reference: str | None
    window_start: int | None
    window_end: int | None
    row_count: int | None


class ReportPage(BaseModel):
    reports: list[ReportBody]
    next_page_token: str | None
