"""What a monitoring report holds: :class:`MonitorReport`, its JSON, its HTML page, its summary.

A stored report is three things: its JSON (:meth:`MonitorReport.to_dict`) and
HTML page (:meth:`MonitorReport.to_html`) as blobs, and a row in the store
(:class:`shipyard.store.monitoring_base.ReportRecord`) holding the verdict and
:meth:`MonitorReport.summary`, linked to the model version (and the monitor that
made it). :func:`get_report` reads one back.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.errors import DataCorruptionError
from shipyard.monitoring.drift_report import DriftReport
from shipyard.monitoring.quality import QualityReport
from shipyard.monitoring.windows import Window

if TYPE_CHECKING:
    from shipyard.store.monitoring_base import ReportRecord
    from shipyard.tracking.client import Client

__all__ = ["FORMAT", "STATUSES", "MonitorReport", "get_report", "status_of"]

FORMAT = 1
# The states a report (and a monitor, after its last run) can be in.
STATUSES = ("ok", "drift", "quality_drop", "drift_and_quality_drop")
_SUMMARY_COLUMNS = 20  # drifted columns named in the summary row; the JSON has them all


def status_of(drift_found: bool, quality_drop: bool) -> str:
    if drift_found and quality_drop:
        return "drift_and_quality_drop"
    if drift_found:
        return "drift"
    return "quality_drop" if quality_drop else "ok"


def _iso(ms: int | None) -> str:
    if ms is None:
        return "—"
    return dt.datetime.fromtimestamp(ms / 1000).astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True)
class MonitorReport:
    """One check of a model's live predictions: drift against the reference, quality
    against the baseline evaluation, and the verdict (:attr:`status`).

    ``column_mapping`` maps each logged input column to the reference column it
    was compared with (``input_0 -> pixel_0`` for a tensor model, by position).
    ``prediction_reference`` says what the predictions were compared with:
    ``model`` (the model's predictions on the reference table), ``target`` (the
    reference's target, when the model could not be run here) or None.
    """

    model_uri: str
    model_name: str
    model_version: int | None
    run_id: str | None
    reference: str
    reference_reason: str
    target: str | None
    column_mapping: dict[str, str]
    by_position: bool
    window: Window
    window_start: int | None
    window_end: int | None
    rows: int
    drift: DriftReport
    quality: QualityReport
    prediction_reference: str | None = None
    thresholds: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    created_at: int = 0
    id: str | None = None
    monitor_id: str | None = None
    report_digest: str | None = None
    html_digest: str | None = None

    # -- the verdict -----------------------------------------------------------------
    @property
    def dataset_drift(self) -> bool:
        return self.drift.dataset_drift

    @property
    def prediction_drift(self) -> bool:
        return self.drift.prediction_drift

    @property
    def drift_found(self) -> bool:
        """Dataset drift, or prediction drift when the thresholds count it."""
        counted = bool(self.thresholds.get("prediction_drift", False))
        return self.dataset_drift or (counted and self.prediction_drift)

    @property
    def quality_drop(self) -> bool:
        return self.quality.quality_drop

    @property
    def status(self) -> str:
        """``ok``, ``drift``, ``quality_drop`` or ``drift_and_quality_drop``."""
        return status_of(self.drift_found, self.quality_drop)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    # -- JSON ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "status": self.status,
            "model": {
                "uri": self.model_uri,
                "name": self.model_name,
                "version": self.model_version,
                "run_id": self.run_id,
            },
            "reference": {
                "uri": self.reference,
                "reason": self.reference_reason,
                "target": self.target,
                "column_mapping": self.column_mapping,
                "by_position": self.by_position,
                "prediction_reference": self.prediction_reference,
            },
            "window": {
                **self.window.to_dict(),
                "start": self.window_start,
                "end": self.window_end,
                "rows": self.rows,
            },
            "thresholds": self.thresholds,
            "drift": self.drift.to_dict(),
            "quality": self.quality.to_dict(),
            "notes": self.notes,
            "created_at": self.created_at,
            "monitor_id": self.monitor_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MonitorReport:
        model, ref, window = data["model"], data["reference"], data["window"]
        return cls(
            model_uri=str(model["uri"]),
            model_name=str(model["name"]),
            model_version=model.get("version"),
            run_id=model.get("run_id"),
            reference=str(ref["uri"]),
            reference_reason=str(ref.get("reason", "")),
            target=ref.get("target"),
            column_mapping=dict(ref.get("column_mapping") or {}),
            by_position=bool(ref.get("by_position", False)),
            window=Window.from_dict(window),
            window_start=window.get("start"),
            window_end=window.get("end"),
            rows=int(window.get("rows", 0)),
            drift=DriftReport.from_dict(data["drift"]),
            quality=QualityReport.from_dict(data.get("quality") or {}),
            prediction_reference=ref.get("prediction_reference"),
            thresholds=dict(data.get("thresholds") or {}),
            notes=list(data.get("notes") or []),
            created_at=int(data.get("created_at", 0)),
            monitor_id=data.get("monitor_id"),
        )

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), allow_nan=False, separators=(",", ":")).encode()

    def summary(self) -> dict[str, Any]:
        """The small part kept in the report's row (and sent in alerts)."""
        drifted = self.drift.drifted_columns
        return {
            "status": self.status,
            "model_uri": self.model_uri,
            "reference": self.reference,
            "window": self.window.describe(),
            "rows": self.rows,
            "dataset_drift": self.dataset_drift,
            "drifted_share": self.drift.drifted_share,
            "drift_share_threshold": self.drift.drift_share,
            "drifted_count": len(drifted),
            "tested_count": len(self.drift.tested_columns),
            "drifted_columns": drifted[:_SUMMARY_COLUMNS],
            "prediction_drift": self.prediction_drift,
            "labelled_rows": self.quality.labelled_rows,
            "quality_drop": self.quality_drop,
            "quality": {
                c.metric: {
                    "current": c.current,
                    "baseline": c.baseline,
                    "worse_by": c.worse_by,
                    "threshold": c.threshold,
                    "dropped": c.dropped,
                }
                for c in self.quality.comparisons
            },
            "metrics": dict(self.quality.metrics),
        }

    def with_record(self, record: ReportRecord) -> MonitorReport:
        return replace(
            self,
            id=record.id,
            monitor_id=record.monitor_id,
            report_digest=record.report_digest,
            html_digest=record.html_digest,
            created_at=record.created_at,
        )

    # -- HTML ------------------------------------------------------------------------
    def to_html(self, path: str | Path | None = None) -> str:
        """One self-contained page: the verdict, quality against the baseline, then the
        drift report (summary table and reference-vs-current histograms per column)."""
        title = f"Monitoring report: {self.model_uri}"
        page = self.drift.to_html(title=title)
        head, sep, rest = page.partition("</h1>")
        page = head + sep + self._html_section() + rest if sep else page
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page

    def _html_section(self) -> str:
        e = html.escape
        bad = not self.ok
        verdict = (
            f'<span class="verdict {"bad" if bad else "ok"}">{e(self.status.replace("_", " "))}'
            "</span>"
        )
        version = "—" if self.model_version is None else str(self.model_version)
        shown = list(self.column_mapping.items())[:6]
        mapping = ", ".join(f"{e(a)} → {e(b)}" for a, b in shown if a != b)
        if mapping and len(self.column_mapping) > len(shown):
            mapping += f", … ({len(self.column_mapping)} columns)"
        rows = [
            ("Model", f"{e(self.model_name)} version {e(version)}"),
            (
                "Reference",
                f"{e(self.reference)} <span class=muted>({e(self.reference_reason)})</span>",
            ),
            (
                "Window",
                f"{e(self.window.describe())}: {_iso(self.window_start)} → {_iso(self.window_end)}",
            ),
            ("Rows", f"{self.rows:,} predictions, {self.quality.labelled_rows:,} labelled"),
            ("Target", e(self.target or "—")),
        ]
        if mapping:
            how = "by position" if self.by_position else "by name"
            rows.append(("Columns", f"{mapping} <span class=muted>({how})</span>"))
        if self.prediction_reference:
            against = {
                "model": "the model's predictions on the reference",
                "target": "the reference's target",
            }
            rows.append(("Predictions vs", e(against.get(self.prediction_reference, ""))))
        table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
        parts = [f"<p>{verdict}</p><table>{table}</table>"]
        parts.append(self._quality_html())
        if self.notes:
            notes = "".join(f"<li>{e(n)}</li>" for n in self.notes)
            parts.append(f'<ul class="muted">{notes}</ul>')
        parts.append("<h2>Drift</h2>")  # the drift report's own summary follows
        return "".join(parts)

    def _quality_html(self) -> str:
        e = html.escape
        q = self.quality
        note = f'<p class="muted">{e(q.note)}</p>' if q.note else ""
        if not q.comparisons and not q.metrics:
            return f"<h2>Quality</h2>{note or '<p class=muted>no labels yet</p>'}"
        baseline = ""
        if q.baseline is not None:
            source = "promotion decision" if q.baseline.source == "promotion" else "evaluation"
            on = f" on {e(q.baseline.dataset)}" if q.baseline.dataset else ""
            baseline = f'<p class="muted">Baseline: the {source}\'s evaluation{on}.</p>'
        rows = []
        compared = {c.metric for c in q.comparisons}
        for c in q.comparisons:
            verdict = (
                f'<span class="verdict {"bad" if c.dropped else "ok"}">'
                f"{'dropped' if c.dropped else 'ok'}</span>"
            )
            rows.append(
                f"<tr><td>{e(c.metric)}</td><td class=n>{c.current:.4f}</td>"
                f"<td class=n>{c.baseline:.4f}</td><td class=n>{c.worse_by:+.4f}</td>"
                f"<td class=n>{c.threshold:.4f}</td><td>{verdict}</td></tr>"
            )
        for metric, value in q.metrics.items():
            if metric not in compared:
                rows.append(
                    f"<tr><td>{e(metric)}</td><td class=n>{value:.4f}</td>"
                    "<td class=n>—</td><td class=n>—</td><td class=n>—</td><td></td></tr>"
                )
        head = (
            "<tr><th>metric</th><th>now</th><th>baseline</th><th>worse by</th>"
            "<th>allowed</th><th>verdict</th></tr>"
        )
        return (
            f"<h2>Quality ({q.labelled_rows:,} labelled rows)</h2>{baseline}"
            f"<table>{head}{''.join(rows)}</table>{note}"
        )


def get_report(report_id: str, *, client: Client | None = None) -> MonitorReport:
    """A stored report, read back from its JSON blob."""
    from shipyard.models.resolve import client_or_default

    c = client_or_default(client)
    record = c.store.get_report(report_id)
    raw = b"".join(c.blob_store.open(record.report_digest))
    try:
        data = json.loads(raw)
        report = MonitorReport.from_dict(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise DataCorruptionError(f"report {report_id}: its JSON cannot be read: {exc}") from None
    return report.with_record(record)
