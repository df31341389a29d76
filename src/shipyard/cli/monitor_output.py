"""How ``shipyard monitor`` prints: a report's summary table, monitors and reports as JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.table import Table

from .output import console, print_table, short_id

if TYPE_CHECKING:
    from shipyard.monitoring.monitors import MonitorRun
    from shipyard.monitoring.reports import MonitorReport
    from shipyard.store.monitoring_base import MonitorRecord, ReportRecord

__all__ = ["monitor_json", "print_report", "report_json", "run_line", "thresholds_text"]


def _yes(value: bool, yes: str = "yes", no: str = "no") -> str:
    return f"[bold red]{yes}[/]" if value else f"[green]{no}[/]"


def print_report(result: MonitorReport) -> None:
    out = console()
    drift = result.drift
    version = "" if result.model_version is None else f" version {result.model_version}"
    title = (
        f"Report {short_id(result.id or '-')}: {result.model_uri} ({result.model_name}{version})"
    )
    table = Table(title=title, title_justify="left", box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    table.add_row("reference", f"{result.reference} ({result.reference_reason})")
    table.add_row(
        "window",
        f"{result.window.describe()}: {result.rows:,} predictions, "
        f"{result.quality.labelled_rows:,} labelled",
    )
    table.add_row(
        "data drift",
        f"{_yes(result.dataset_drift)}: {len(drift.drifted_columns)} of "
        f"{len(drift.tested_columns)} columns drifted ({drift.drifted_share:.0%}; "
        f"the dataset drifts at {drift.drift_share:.0%})",
    )
    if drift.prediction:
        against = "model on reference" if result.prediction_reference == "model" else "target"
        table.add_row("prediction drift", f"{_yes(result.prediction_drift)} (vs {against})")
    for c in result.quality.comparisons:
        table.add_row(
            c.metric,
            f"{c.current:.4f} (baseline {c.baseline:.4f}, worse by {c.worse_by:+.4f}, "
            f"allowed {c.threshold:.4f}): {_yes(c.dropped, 'dropped', 'ok')}",
        )
    if result.quality.note:
        table.add_row("quality", result.quality.note)
    for note in result.notes:
        table.add_row("note", note)
    table.add_row("status", _yes(not result.ok, result.status, result.status))
    out.print(table)
    drifted = [c for c in drift.columns if c.drifted][:10]
    if drifted:
        rows = [
            [
                c.column,
                c.method or "-",
                f"{c.score:.4g}" if c.score is not None else "-",
                f"{c.threshold:.4g}" if c.threshold is not None else "-",
            ]
            for c in drifted
        ]
        more = len(drift.drifted_columns) - len(drifted)
        title = "Drifted columns" + (f" (first 10 of {len(drift.drifted_columns)})" if more else "")
        print_table(["column", "method", "score", "threshold"], rows, title=title)


def monitor_json(m: MonitorRecord) -> dict[str, Any]:
    return {
        "id": m.id,
        "model_uri": m.model_uri,
        "every_seconds": m.every_seconds,
        "webhook": m.webhook,
        "thresholds": m.thresholds,
        "config": m.config,
        "state": m.state,
        "enabled": m.enabled,
        "last_run_at": m.last_run_at,
        "next_run_at": m.next_run_at,
        "created_at": m.created_at,
    }


def thresholds_text(thresholds: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in thresholds.items()) or "-"


def run_line(run: MonitorRun) -> str:
    m = run.monitor
    if run.no_data:
        outcome = "no predictions in the window"
    elif run.error is not None:
        outcome = f"error: {run.error}"
    else:
        outcome = f"{run.state} (report {short_id(run.report.id or '-') if run.report else '-'})"
    change = f" [{run.previous} -> {run.state}, alerted]" if run.alerted else ""
    return f"monitor {short_id(m.id)} {m.model_uri}: {outcome}{change}"


def report_json(r: ReportRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "monitor_id": r.monitor_id,
        "model_name": r.model_name,
        "model_version": r.model_version,
        "created_at": r.created_at,
        "dataset_drift": r.dataset_drift,
        "drift_share": r.drift_share,
        "reference": r.reference,
        "window_start": r.window_start,
        "window_end": r.window_end,
        "row_count": r.row_count,
        "summary": r.summary,
        "report_digest": r.report_digest,
        "html_digest": r.html_digest,
    }
