"""``/api/v1/monitoring``: the prediction log index, feedback labels, monitors and reports.

A log file or a report is a blob: the client uploads it first, then indexes it
here. The server refuses an index row whose blob it does not hold, so no row
ever names missing bytes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from shipyard.errors import InvalidInputError
from shipyard.server.deps import (
    ERRORS,
    NO_CONTENT,
    BlobStoreDep,
    CacheDep,
    IdempotencyKey,
    StoreDep,
)
from shipyard.server.schemas_datasets import DigestList
from shipyard.server.schemas_monitoring import (
    AddPredictionLogBatchBody,
    ClaimBody,
    ClaimedBody,
    CreateMonitorBody,
    CreateReportBody,
    DeletedBody,
    FeedbackList,
    FeedbackLookupBody,
    LogFeedbackBody,
    ModelNameList,
    MonitorBody,
    MonitorList,
    PredictionLogBatchBody,
    PredictionLogBatchList,
    RecordedBody,
    ReportBody,
    ReportPage,
    UpdateMonitorBody,
)
from shipyard.store import monitoring_checks as mc
from shipyard.store.base import DEFAULT_PAGE_SIZE, BlobStore
from shipyard.store.hashing import validate_digest
from shipyard.store.rest.codec import page_to_json
from shipyard.store.rest.monitoring_codec import (
    batch_to_json,
    feedback_to_json,
    monitor_to_json,
    report_to_json,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/monitoring", tags=["monitoring"], responses=ERRORS)

_MONITOR = "/monitors/{monitor_id}"


def _require_blob(blob_store: BlobStore, digest: object, what: str) -> str:
    checked = validate_digest(digest, what)
    if not blob_store.exists(checked):
        raise InvalidInputError(f"{what} {checked} is not stored; upload it first")
    return checked


# -- prediction logs -------------------------------------------------------------
@router.post(
    "/prediction-logs",
    status_code=201,
    response_model=PredictionLogBatchBody,
    summary="Index an uploaded Parquet file of predictions (the same file indexes once)",
)
def add_prediction_log_batch(
    body: AddPredictionLogBatchBody, store: StoreDep, blob_store: BlobStoreDep
) -> Response:
    # The fields first: a refused row must not be reported as a missing blob.
    mc.check_model_name(body.model_name)
    mc.check_version(body.model_version)
    mc.check_time_range(body.min_timestamp, body.max_timestamp)
    mc.check_size(body.row_count, "row count")
    mc.check_size(body.size, "size")
    digest = _require_blob(blob_store, body.digest, "log file digest")
    batch = store.add_prediction_log_batch(
        body.model_name,
        body.model_version,
        body.min_timestamp,
        body.max_timestamp,
        body.row_count,
        digest,
        body.size,
    )
    return JSONResponse(batch_to_json(batch), status_code=201)


@router.get(
    "/prediction-logs",
    response_model=PredictionLogBatchList,
    summary="Log files of a model whose time range meets [since_ms, until_ms]",
)
def list_prediction_log_batches(
    store: StoreDep,
    model_name: Annotated[str, Query()],
    since_ms: int | None = None,
    until_ms: int | None = None,
    version: int | None = None,
    max_results: int | None = None,
    newest_first: bool = False,
) -> Response:
    batches = store.list_prediction_log_batches(
        model_name, since_ms, until_ms, version, max_results, newest_first
    )
    return JSONResponse({"batches": [batch_to_json(b) for b in batches]})


@router.get("/prediction-logs/models", response_model=ModelNameList, summary="Models with logs")
def list_prediction_log_models(store: StoreDep) -> Response:
    return JSONResponse({"models": store.list_prediction_log_models()})


@router.delete(
    "/prediction-logs",
    response_model=DeletedBody,
    summary="Forget a model's log files whose newest row is older than before_ms",
)
def delete_prediction_log_batches(
    store: StoreDep, model_name: Annotated[str, Query()], before_ms: Annotated[int, Query()]
) -> Response:
    return JSONResponse({"deleted": store.delete_prediction_log_batches(model_name, before_ms)})


# -- feedback ----------------------------------------------------------------------
@router.post(
    "/feedback",
    response_model=RecordedBody,
    summary="Store true labels by request id (a label sent again replaces itself)",
)
def log_feedback(body: LogFeedbackBody, store: StoreDep) -> Response:
    items = [(item.request_id, item.label) for item in body.items]
    return JSONResponse({"recorded": store.log_feedback(body.model_name, items)})


@router.post(
    "/feedback/lookup",
    response_model=FeedbackList,
    summary="Labels of these requests of a model",
)
def get_feedback(body: FeedbackLookupBody, store: StoreDep) -> Response:
    found = store.get_feedback(body.model_name, body.request_ids)
    return JSONResponse({"feedback": [feedback_to_json(f) for f in found]})


@router.get(
    "/feedback",
    response_model=FeedbackList,
    summary="Labels received in [since_ms, until_ms], oldest first",
)
def list_feedback(
    store: StoreDep,
    model_name: str | None = None,
    since_ms: int | None = None,
    until_ms: int | None = None,
    max_results: int = 10_000,
) -> Response:
    found = store.list_feedback(model_name, since_ms, until_ms, max_results)
    return JSONResponse({"feedback": [feedback_to_json(f) for f in found]})


# -- monitors ----------------------------------------------------------------------
@router.post("/monitors", status_code=201, response_model=MonitorBody, summary="Add a monitor")
def create_monitor(
    body: CreateMonitorBody,
    store: StoreDep,
    cache: CacheDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    answer = cache.run(
        idempotency_key,
        "create_monitor",
        body.model_dump_json(),
        lambda: monitor_to_json(
            store.create_monitor(
                body.model_uri,
                body.every_seconds,
                webhook=body.webhook,
                thresholds=body.thresholds,
                config=body.config,
                enabled=body.enabled,
                next_run_at=body.next_run_at,
            )
        ),
    )
    return JSONResponse(answer, status_code=201)


@router.get("/monitors", response_model=MonitorList, summary="Monitors, oldest first")
def list_monitors(
    store: StoreDep, model_uri: str | None = None, enabled: bool | None = None
) -> Response:
    found = store.list_monitors(model_uri, enabled)
    return JSONResponse({"monitors": [monitor_to_json(m) for m in found]})


@router.get("/monitors/due", response_model=MonitorList, summary="Enabled monitors due now_ms")
def due_monitors(store: StoreDep, now_ms: Annotated[int, Query()]) -> Response:
    return JSONResponse({"monitors": [monitor_to_json(m) for m in store.due_monitors(now_ms)]})


@router.get(_MONITOR, response_model=MonitorBody, summary="A monitor")
def get_monitor(monitor_id: str, store: StoreDep) -> Response:
    return JSONResponse(monitor_to_json(store.get_monitor(monitor_id)))


@router.patch(_MONITOR, response_model=MonitorBody, summary="Change a monitor")
def update_monitor(monitor_id: str, body: UpdateMonitorBody, store: StoreDep) -> Response:
    monitor = store.update_monitor(
        monitor_id,
        every_seconds=body.every_seconds,
        webhook=body.webhook,
        thresholds=body.thresholds,
        config=body.config,
        enabled=body.enabled,
        state=body.state,
    )
    return JSONResponse(monitor_to_json(monitor))


@router.delete(_MONITOR, status_code=NO_CONTENT, summary="Delete a monitor (reports stay)")
def delete_monitor(monitor_id: str, store: StoreDep) -> Response:
    store.delete_monitor(monitor_id)
    return Response(status_code=NO_CONTENT)


@router.post(
    f"{_MONITOR}/claim",
    response_model=ClaimedBody,
    summary="Take the run due at due_at (exactly one of racing schedulers gets true)",
)
def claim_monitor_run(monitor_id: str, body: ClaimBody, store: StoreDep) -> Response:
    claimed = store.claim_monitor_run(monitor_id, body.due_at, body.next_run_at)
    return JSONResponse({"claimed": claimed})


# -- reports -----------------------------------------------------------------------
@router.post("/reports", status_code=201, response_model=ReportBody, summary="Record a report")
def create_report(
    body: CreateReportBody,
    store: StoreDep,
    blob_store: BlobStoreDep,
    cache: CacheDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    mc.check_model_name(body.model_name)
    mc.check_share(body.drift_share)
    report_digest = _require_blob(blob_store, body.report_digest, "report digest")
    html_digest = None
    if body.html_digest is not None:
        html_digest = _require_blob(blob_store, body.html_digest, "HTML digest")

    def create() -> object:
        report = store.create_report(
            body.model_name,
            body.model_version,
            body.dataset_drift,
            None if body.drift_share is None else float(body.drift_share),
            body.summary,
            report_digest,
            html_digest=html_digest,
            monitor_id=body.monitor_id,
            reference=body.reference,
            window_start=body.window_start,
            window_end=body.window_end,
            row_count=body.row_count,
        )
        return report_to_json(report)

    answer = cache.run(idempotency_key, "create_report", body.model_dump_json(), create)
    return JSONResponse(answer, status_code=201)


@router.get("/reports", response_model=ReportPage, summary="Reports, newest first")
def list_reports(
    store: StoreDep,
    model_name: str | None = None,
    monitor_id: str | None = None,
    max_results: int = DEFAULT_PAGE_SIZE,
    page_token: str | None = None,
) -> Response:
    page = store.list_reports(model_name, monitor_id, max_results, page_token)
    return JSONResponse(page_to_json(page, "reports", report_to_json))


@router.get("/reports/{report_id}", response_model=ReportBody, summary="A report")
def get_report(report_id: str, store: StoreDep) -> Response:
    return JSONResponse(report_to_json(store.get_report(report_id)))


@router.delete("/reports/{report_id}", status_code=NO_CONTENT, summary="Delete a report")
def delete_report(report_id: str, store: StoreDep) -> Response:
    store.delete_report(report_id)
    return Response(status_code=NO_CONTENT)


# -- garbage collection ----------------------------------------------------------
@router.get(
    "/references/digests",
    response_model=DigestList,
    summary="Digests of indexed log files and of report blobs",
)
def monitoring_referenced_digests(store: StoreDep) -> Response:
    return JSONResponse({"digests": sorted(store.monitoring_referenced_digests())})
