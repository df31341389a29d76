"""What the monitoring pages derive from reports: statuses, series, alerts, histogram
geometry and the per-column order, on records built here (no server needed)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from shipyard.monitoring.drift_report import ColumnDrift, Histogram
from shipyard.server.ui.monitoring_data import (
    drift_chart,
    monitor_alerts,
    quality_chart,
    quality_metrics,
    report_status,
    series,
    status_label,
    status_tone,
)
from shipyard.server.ui.monitoring_report import column_views
from shipyard.server.ui.monitoring_svg import HEIGHT, histogram_svg
from shipyard.store.monitoring_base import MonitorRecord, ReportRecord

MONITOR_ID = "m" * 32


def monitor(state: str, last_run_at: int | None = 9_000) -> MonitorRecord:
    return MonitorRecord(
        MONITOR_ID, "models:/digits@production", 3600, None, {}, {}, state, True,
        last_run_at, 10_000, 0, 0,
    )  # fmt: skip


def report(
    number: int,
    status: str | None,
    *,
    version: int | None = 1,
    share: float = 0.0,
    monitor_id: str | None = MONITOR_ID,
    **summary: Any,
) -> ReportRecord:
    if status is not None:
        summary["status"] = status
    return ReportRecord(
        id=f"{number:032x}",
        monitor_id=monitor_id,
        model_name="digits",
        model_version=version,
        created_at=1_000 * number,
        dataset_drift=status is not None and status.startswith("drift"),
        drift_share=share,
        summary=summary,
        report_digest="0" * 64,
        html_digest=None,
        window_end=1_000 * number + 500,
    )


def test_status_of_old_rows_and_labels() -> None:
    # A row written before statuses existed says only whether the dataset drifted.
    old = ReportRecord("a" * 32, None, "digits", 1, 0, True, 0.5, {}, "0" * 64, None)
    assert report_status(old) == "drift"
    assert report_status(report(1, None, quality_drop=True)) == "quality_drop"
    assert report_status(report(1, "drift_and_quality_drop")) == "drift_and_quality_drop"
    assert [status_label(s) for s in ("ok", "quality_drop", "no_data")] == [
        "OK",
        "Quality drop",
        "No data",
    ]
    assert [status_tone(s) for s in ("ok", "quality_drop", "drift", "pending")] == [
        "ok",
        "warn",
        "bad",
        "neutral",
    ]


def test_alerts_are_changes_of_state_newest_first() -> None:
    reports = [
        report(1, "ok"),
        report(2, "ok"),
        report(3, "drift"),
        report(4, "drift"),
        report(5, "ok"),
        report(9, "drift", monitor_id=None),  # a one-off check: no monitor, no alert
    ]
    alerts = monitor_alerts(monitor("ok"), reports[::-1])  # the store lists newest first
    assert [(a.previous, a.state, a.report_id) for a in alerts] == [
        ("drift", "ok", reports[4].id),
        ("ok", "drift", reports[2].id),
    ]
    assert alerts[0].at == reports[4].window_end


def test_a_first_report_alerts_only_when_it_finds_a_problem() -> None:
    assert monitor_alerts(monitor("ok"), [report(1, "ok")]) == []
    [alert] = monitor_alerts(monitor("quality_drop"), [report(1, "quality_drop")])
    assert (alert.previous, alert.state) == ("pending", "quality_drop")


def test_a_cut_series_does_not_alert_on_its_oldest_report() -> None:
    # The newest reports of a long series: whether the oldest one changed state is unknown.
    reports = [report(7, "drift"), report(8, "drift"), report(9, "ok")]
    alerts = monitor_alerts(monitor("ok"), reports, from_start=False)
    assert [(a.previous, a.state) for a in alerts] == [("drift", "ok")]
    assert monitor_alerts(monitor("error"), [], from_start=False) == []


def test_a_failed_check_alerts_without_a_report() -> None:
    [failed, drift] = monitor_alerts(monitor("error"), [report(1, "drift")])
    assert (failed.previous, failed.state, failed.report_id) == ("drift", "error", None)
    assert failed.at == 9_000 and drift.state == "drift"
    assert monitor_alerts(monitor("error", last_run_at=None), []) == []


def test_drift_chart_has_a_line_per_version_and_drift_markers() -> None:
    points = series(
        [
            report(3, "drift", version=2, share=0.6, drift_share_threshold=0.5),
            report(1, "ok", share=0.1, drift_share_threshold=0.5),
            report(2, "ok", share=0.2),
        ]
    )
    chart = drift_chart(points)
    assert chart["x"] == [1.5, 2.5, 3.5]
    assert chart["lines"] == [
        {"label": "v1", "values": [0.1, 0.2, None]},
        {"label": "v2", "values": [None, None, 0.6]},
    ]
    assert chart["threshold"] == [0.5, None, 0.5]
    assert chart["drift"] == [None, None, 0.6]
    assert chart["status"] == ["OK", "OK", "Drift"]


def test_quality_series_prefers_metrics_with_a_baseline() -> None:
    compared = {"accuracy": {"current": 0.9, "baseline": 0.95, "dropped": True}}
    points = series(
        [
            report(1, "ok"),
            report(2, "quality_drop", quality=compared, metrics={"accuracy": 0.9, "f1": 0.8}),
            report(3, "ok", metrics={"accuracy": 0.97, "f1": math.inf}),
        ]
    )
    assert quality_metrics(points) == ["accuracy"]
    chart = quality_chart(points, ["accuracy"])
    assert chart["x"] == [2.5, 3.5]
    assert chart["charts"] == [
        {
            "metric": "accuracy",
            "current": [0.9, 0.97],
            "baseline": [0.95, None],
            "dropped": [0.9, None],
        }
    ]
    # Without any baseline, the first few metrics scored.
    assert quality_metrics(series([report(1, "ok", metrics={"r2": 0.5, "mae": 2.0})])) == [
        "mae",
        "r2",
    ]


def test_histogram_bars_are_shares_of_each_table() -> None:
    svg = histogram_svg(Histogram([30, 10], [5, 45], labels=["cat", "dog"]))
    assert svg is not None
    assert [(c.label, c.reference_share, c.current_share) for c in svg.cells] == [
        ("cat", 0.75, 0.1),
        ("dog", 0.25, 0.9),
    ]
    by_title = {bar.title: bar for bar in svg.bars}
    tallest = by_title["dog: current 90.0% (45 rows)"]
    assert tallest.y == pytest.approx(8) and tallest.y + tallest.height == svg.baseline
    assert by_title["cat: reference 75.0% (30 rows)"].height == pytest.approx(
        tallest.height * 0.75 / 0.9, abs=0.01
    )
    assert [t.text for t in svg.ticks] == ["cat", "dog"] and all(t.slanted for t in svg.ticks)
    assert [t.text for t in svg.y_ticks] == ["0%", "45%", "90%"]
    assert max(bar.x + bar.width for bar in svg.bars) <= svg.right
    assert svg.baseline < HEIGHT


def test_numeric_histograms_label_their_range_and_bad_ones_draw_nothing() -> None:
    svg = histogram_svg(Histogram([1, 2, 3], [3, 2, 1], edges=[0.0, 0.5, 1.0, 1.5]))
    assert svg is not None
    assert [t.text for t in svg.ticks] == ["0", "1.5"]
    assert svg.cells[1].label == "0.5 to 1"
    assert histogram_svg(Histogram([], [])) is None
    assert histogram_svg(Histogram([1, 2], [1], edges=[0.0, 1.0, 2.0])) is None
    empty = histogram_svg(Histogram([0, 0], [0, 0], labels=["a", "b"]))
    assert empty is not None and all(bar.height == 0 for bar in empty.bars)


def column(name: str, drifted: bool, method: str | None = "ks") -> ColumnDrift:
    histogram = Histogram([1, 2], [2, 1], labels=["a", "b"])
    return ColumnDrift(name, "numerical", method, drifted, histogram=histogram)


def test_columns_list_drifted_first_and_chart_a_pinned_one() -> None:
    columns = [
        column("untested", False, None),
        column("calm", False),
        column("moved", True),
        column("quiet", False),
        column("shifted", True),
    ]
    rows, charted = column_views(columns, charted=2)
    assert [r.drift.column for r in rows] == ["moved", "shifted", "calm", "quiet", "untested"]
    assert [r.index for r in rows][:2] == [2, 4]  # anchors keep the report's positions
    assert [r.drift.column for r in charted] == ["moved", "shifted"]
    assert [r.chart is not None for r in rows] == [True, True, False, False, False]
    _, pinned = column_views(columns, charted=2, pinned="untested")
    assert [r.drift.column for r in pinned] == ["untested", "moved", "shifted"]
