"""The monitoring part of SqlStore: prediction log index, feedback, monitors and reports.

``SqlStore`` mixes this in and provides the transactions. This store cannot see
blobs: callers store a log file or a report before indexing it here (the REST
server checks the blob is there).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from shipyard.entities import Page, now_ms
from shipyard.errors import InvalidInputError, NotFoundError
from shipyard.store import monitoring_checks as mc
from shipyard.store.monitoring_base import (
    Feedback,
    MonitoringStore,
    MonitorRecord,
    PredictionLogBatch,
    ReportRecord,
)
from shipyard.store.sql import checks, writes
from shipyard.store.sql import tables_monitoring as tm

__all__ = ["SqlMonitoringStore"]

_b = tm.prediction_log_batches
_f = tm.feedback
_m = tm.monitors
_r = tm.monitor_reports
# Labels sent without a model are stored under this name, which no model can have.
_ANY_MODEL = ""
# Ids per IN (...) list: far below SQLite's and PostgreSQL's parameter limits.
_IDS_PER_QUERY = 500


def _batch(row: sa.Row[Any]) -> PredictionLogBatch:
    return PredictionLogBatch(
        id=row.id,
        model_name=row.model_name,
        model_version=row.model_version,
        min_timestamp=row.min_timestamp,
        max_timestamp=row.max_timestamp,
        row_count=row.row_count,
        digest=row.digest,
        size=row.size,
        created_at=row.created_at,
    )


def _feedback(row: sa.Row[Any]) -> Feedback:
    return Feedback(
        model_name=row.model_name or None,
        request_id=row.request_id,
        label=row.label,
        created_at=row.created_at,
    )


def _monitor(row: sa.Row[Any]) -> MonitorRecord:
    return MonitorRecord(
        id=row.id,
        model_uri=row.model_uri,
        every_seconds=row.every_seconds,
        webhook=row.webhook,
        thresholds=dict(row.thresholds),
        config=dict(row.config),
        state=row.state,
        enabled=bool(row.enabled),
        last_run_at=row.last_run_at,
        next_run_at=row.next_run_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _report(row: sa.Row[Any]) -> ReportRecord:
    return ReportRecord(
        id=row.id,
        monitor_id=row.monitor_id,
        model_name=row.model_name,
        model_version=row.model_version,
        created_at=row.created_at,
        dataset_drift=bool(row.dataset_drift),
        drift_share=row.drift_share,
        summary=dict(row.summary),
        report_digest=row.report_digest,
        html_digest=row.html_digest,
        reference=row.reference,
        window_start=row.window_start,
        window_end=row.window_end,
        row_count=row.row_count,
    )


class SqlMonitoringStore(MonitoringStore):
    """Mixin of :class:`shipyard.store.sql.store.SqlStore`; not usable on its own."""

    # Provided by SqlStore.
    def _write(self) -> contextlib.AbstractContextManager[sa.Connection]:
        raise NotImplementedError

    def _read(self) -> contextlib.AbstractContextManager[sa.Connection]:
        raise NotImplementedError

    # -- prediction logs ---------------------------------------------------------
    def add_prediction_log_batch(
        self,
        model_name: str,
        model_version: int | None,
        min_timestamp: int,
        max_timestamp: int,
        row_count: int,
        digest: str,
        size: int,
    ) -> PredictionLogBatch:
        low, high = mc.check_time_range(min_timestamp, max_timestamp)
        row: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "model_name": mc.check_model_name(model_name),
            "model_version": mc.check_version(model_version),
            "min_timestamp": low,
            "max_timestamp": high,
            "row_count": mc.check_size(row_count, "row count"),
            "digest": mc.check_digest(digest, "log file digest"),
            "size": mc.check_size(size, "size"),
            "created_at": now_ms(),
        }
        with self._write() as conn:
            stmt = writes.insert_stmt(conn, _b).values(**row)
            conn.execute(stmt.on_conflict_do_nothing(index_elements=["model_name", "digest"]))
            stored = conn.execute(
                sa.select(_b).where(_b.c.model_name == row["model_name"], _b.c.digest == digest)
            ).one()
        return _batch(stored)

    def list_prediction_log_batches(
        self,
        model_name: str,
        since_ms: int | None = None,
        until_ms: int | None = None,
        version: int | None = None,
        max_results: int | None = None,
        newest_first: bool = False,
    ) -> list[PredictionLogBatch]:
        query = sa.select(_b).where(_b.c.model_name == mc.check_model_name(model_name))
        since = mc.check_optional_time(since_ms, "since_ms")
        until = mc.check_optional_time(until_ms, "until_ms")
        if since is not None:
            query = query.where(_b.c.max_timestamp >= since)
        if until is not None:
            query = query.where(_b.c.min_timestamp <= until)
        if version is not None:
            query = query.where(_b.c.model_version == mc.check_version(version))
        if mc.check_bool(newest_first, "newest_first"):
            query = query.order_by(_b.c.max_timestamp.desc(), _b.c.id.desc())
        else:
            query = query.order_by(_b.c.max_timestamp, _b.c.id)
        if max_results is not None:
            query = query.limit(checks.check_page_size(max_results))
        with self._read() as conn:
            return [_batch(row) for row in conn.execute(query)]

    def list_prediction_log_models(self) -> list[str]:
        with self._read() as conn:
            names = conn.execute(sa.select(_b.c.model_name).distinct()).scalars()
            return sorted(names)

    def delete_prediction_log_batches(self, model_name: str, before_ms: int) -> int:
        name = mc.check_model_name(model_name)
        before = mc.check_time(before_ms, "before_ms")
        with self._write() as conn:
            result = conn.execute(
                _b.delete().where(_b.c.model_name == name, _b.c.max_timestamp < before)
            )
            return int(result.rowcount)

    # -- feedback ----------------------------------------------------------------
    def log_feedback(self, model_name: str | None, items: Sequence[tuple[str, Any]]) -> int:
        name = mc.check_optional_model_name(model_name) or _ANY_MODEL
        pairs = mc.check_feedback_items(items)
        if not pairs:
            return 0
        now = now_ms()
        rows = [
            {"model_name": name, "request_id": request_id, "label": label, "created_at": now}
            for request_id, label in pairs
        ]
        with self._write() as conn:
            writes.upsert(conn, _f, rows)
        return len(rows)

    def get_feedback(self, model_name: str, request_ids: Sequence[str]) -> list[Feedback]:
        name = mc.check_model_name(model_name)
        ids = mc.check_request_ids(request_ids)
        found: dict[str, Feedback] = {}
        with self._read() as conn:
            for start in range(0, len(ids), _IDS_PER_QUERY):
                part = ids[start : start + _IDS_PER_QUERY]
                query = sa.select(_f).where(
                    _f.c.model_name.in_([name, _ANY_MODEL]), _f.c.request_id.in_(part)
                )
                for row in conn.execute(query):
                    # The model's own label wins over one sent without a model.
                    if row.model_name == name or row.request_id not in found:
                        found[row.request_id] = _feedback(row)
        return list(found.values())

    def list_feedback(
        self,
        model_name: str | None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        max_results: int = 10_000,
    ) -> list[Feedback]:
        name = mc.check_optional_model_name(model_name) or _ANY_MODEL
        query = sa.select(_f).where(_f.c.model_name == name)
        since = mc.check_optional_time(since_ms, "since_ms")
        until = mc.check_optional_time(until_ms, "until_ms")
        if since is not None:
            query = query.where(_f.c.created_at >= since)
        if until is not None:
            query = query.where(_f.c.created_at <= until)
        query = query.order_by(_f.c.created_at, _f.c.request_id)
        query = query.limit(checks.check_page_size(max_results))
        with self._read() as conn:
            return [_feedback(row) for row in conn.execute(query)]

    # -- monitors ----------------------------------------------------------------
    def _monitor_row(self, conn: sa.Connection, monitor_id: str) -> sa.Row[Any]:
        checks.check_id(monitor_id, "monitor id")
        row = conn.execute(sa.select(_m).where(_m.c.id == monitor_id)).first()
        if row is None:
            raise NotFoundError(f"no monitor with id {monitor_id!r}")
        return row

    def create_monitor(
        self,
        model_uri: str,
        every_seconds: int,
        webhook: str | None = None,
        thresholds: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        enabled: bool = True,
        next_run_at: int | None = None,
    ) -> MonitorRecord:
        now = now_ms()
        row: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "model_uri": mc.check_model_uri(model_uri),
            "every_seconds": mc.check_every_seconds(every_seconds),
            "webhook": mc.check_webhook(webhook),
            "thresholds": mc.check_json_object(thresholds, "thresholds"),
            "config": mc.check_json_object(config, "monitor config"),
            "state": "pending",
            "enabled": mc.check_bool(enabled, "enabled"),
            "last_run_at": None,
            "next_run_at": now
            if next_run_at is None
            else mc.check_time(next_run_at, "next_run_at"),
            "created_at": now,
            "updated_at": now,
        }
        with self._write() as conn:
            conn.execute(_m.insert().values(**row))
            return _monitor(self._monitor_row(conn, row["id"]))

    def get_monitor(self, monitor_id: str) -> MonitorRecord:
        with self._read() as conn:
            return _monitor(self._monitor_row(conn, monitor_id))

    def list_monitors(
        self, model_uri: str | None = None, enabled: bool | None = None
    ) -> list[MonitorRecord]:
        query = sa.select(_m).order_by(_m.c.created_at, _m.c.id)
        if model_uri is not None:
            query = query.where(_m.c.model_uri == mc.check_model_uri(model_uri))
        if enabled is not None:
            query = query.where(_m.c.enabled == mc.check_bool(enabled, "enabled"))
        with self._read() as conn:
            return [_monitor(row) for row in conn.execute(query)]

    def update_monitor(
        self,
        monitor_id: str,
        every_seconds: int | None = None,
        webhook: str | None = None,
        thresholds: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        enabled: bool | None = None,
        state: str | None = None,
    ) -> MonitorRecord:
        values: dict[str, Any] = {}
        if every_seconds is not None:
            values["every_seconds"] = mc.check_every_seconds(every_seconds)
        if webhook is not None:
            values["webhook"] = mc.check_webhook(webhook)
        if thresholds is not None:
            values["thresholds"] = mc.check_json_object(thresholds, "thresholds")
        if config is not None:
            values["config"] = mc.check_json_object(config, "monitor config")
        if enabled is not None:
            values["enabled"] = mc.check_bool(enabled, "enabled")
        if state is not None:
            values["state"] = mc.check_state(state)
        with self._write() as conn:
            self._monitor_row(conn, monitor_id)
            if values:
                values["updated_at"] = now_ms()
                conn.execute(_m.update().where(_m.c.id == monitor_id).values(**values))
            return _monitor(self._monitor_row(conn, monitor_id))

    def delete_monitor(self, monitor_id: str) -> None:
        with self._write() as conn:
            self._monitor_row(conn, monitor_id)
            # Reports outlive their monitor (the foreign key says so too; SQLite
            # enforces it only with foreign keys on, so it is done here as well).
            conn.execute(_r.update().where(_r.c.monitor_id == monitor_id).values(monitor_id=None))
            conn.execute(_m.delete().where(_m.c.id == monitor_id))

    def due_monitors(self, now_ms: int) -> list[MonitorRecord]:
        now = mc.check_time(now_ms, "now_ms")
        query = (
            sa.select(_m)
            .where(_m.c.enabled.is_(True), _m.c.next_run_at <= now)
            .order_by(_m.c.next_run_at, _m.c.id)
        )
        with self._read() as conn:
            return [_monitor(row) for row in conn.execute(query)]

    def claim_monitor_run(self, monitor_id: str, due_at: int, next_run_at: int) -> bool:
        due = mc.check_time(due_at, "due_at")
        following = mc.check_time(next_run_at, "next_run_at")
        with self._write() as conn:
            self._monitor_row(conn, monitor_id)
            now = now_ms()
            result = conn.execute(
                _m.update()
                .where(_m.c.id == monitor_id, _m.c.next_run_at == due)
                .values(next_run_at=following, last_run_at=now, updated_at=now)
            )
            return bool(result.rowcount == 1)

    # -- reports -----------------------------------------------------------------
    def _report_row(self, conn: sa.Connection, report_id: str) -> sa.Row[Any]:
        checks.check_id(report_id, "report id")
        row = conn.execute(sa.select(_r).where(_r.c.id == report_id)).first()
        if row is None:
            raise NotFoundError(f"no report with id {report_id!r}")
        return row

    def create_report(
        self,
        model_name: str,
        model_version: int | None,
        dataset_drift: bool,
        drift_share: float | None,
        summary: Mapping[str, Any],
        report_digest: str,
        html_digest: str | None = None,
        monitor_id: str | None = None,
        reference: str | None = None,
        window_start: int | None = None,
        window_end: int | None = None,
        row_count: int | None = None,
    ) -> ReportRecord:
        row: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "monitor_id": None if monitor_id is None else checks.check_id(monitor_id, "monitor id"),
            "model_name": mc.check_model_name(model_name),
            "model_version": mc.check_version(model_version),
            "created_at": now_ms(),
            "dataset_drift": mc.check_bool(dataset_drift, "dataset_drift"),
            "drift_share": mc.check_share(drift_share),
            "summary": mc.check_summary(summary),
            "report_digest": mc.check_digest(report_digest, "report digest"),
            "html_digest": None
            if html_digest is None
            else mc.check_digest(html_digest, "HTML digest"),
            "reference": mc.check_optional_text(reference, "reference"),
            "window_start": mc.check_optional_time(window_start, "window_start"),
            "window_end": mc.check_optional_time(window_end, "window_end"),
            "row_count": None if row_count is None else mc.check_size(row_count, "row count"),
        }
        with self._write() as conn:
            if row["monitor_id"] is not None:
                self._monitor_row(conn, row["monitor_id"])
            conn.execute(_r.insert().values(**row))
            return _report(self._report_row(conn, row["id"]))

    def get_report(self, report_id: str) -> ReportRecord:
        with self._read() as conn:
            return _report(self._report_row(conn, report_id))

    def list_reports(
        self,
        model_name: str | None = None,
        monitor_id: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[ReportRecord]:
        limit = checks.check_page_size(max_results)
        query = sa.select(_r)
        if model_name is not None:
            query = query.where(_r.c.model_name == mc.check_model_name(model_name))
        if monitor_id is not None:
            query = query.where(_r.c.monitor_id == checks.check_id(monitor_id, "monitor id"))
        if page_token is not None:
            created, last_id = _decode_report_token(page_token)
            query = query.where(
                sa.or_(
                    _r.c.created_at < created,
                    sa.and_(_r.c.created_at == created, _r.c.id < last_id),
                )
            )
        query = query.order_by(_r.c.created_at.desc(), _r.c.id.desc()).limit(limit + 1)
        with self._read() as conn:
            rows = conn.execute(query).all()
        items = [_report(row) for row in rows[:limit]]
        token = None
        if len(rows) > limit:
            token = checks.encode_token({"at": items[-1].created_at, "id": items[-1].id})
        return Page(items, token)

    def delete_report(self, report_id: str) -> None:
        with self._write() as conn:
            self._report_row(conn, report_id)
            conn.execute(_r.delete().where(_r.c.id == report_id))

    # -- garbage collection --------------------------------------------------------
    def monitoring_referenced_digests(self) -> set[str]:
        with self._read() as conn:
            found = set(conn.execute(sa.select(_b.c.digest).distinct()).scalars())
            found.update(conn.execute(sa.select(_r.c.report_digest).distinct()).scalars())
            found.update(
                conn.execute(
                    sa.select(_r.c.html_digest).where(_r.c.html_digest.is_not(None)).distinct()
                ).scalars()
            )
        return found


def _decode_report_token(token: str) -> tuple[int, str]:
    payload = checks.decode_token_payload(token)
    created, last_id = payload.get("at"), payload.get("id")
    if isinstance(created, bool) or not isinstance(created, int) or not isinstance(last_id, str):
        raise InvalidInputError("invalid page token")
    return created, last_id
