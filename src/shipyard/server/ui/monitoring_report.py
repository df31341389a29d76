"""One monitoring report as its page shows it, read from the report's JSON blob.

The JSON is :meth:`shipyard.monitoring.reports.MonitorReport.to_dict` (a
monitor's or ``shipyard monitor report``'s) or a bare
:meth:`shipyard.monitoring.drift_report.DriftReport.to_dict`; both are read back
with their own ``from_dict``. A blob that is missing, too large or in neither
shape leaves the page with the row's summary and a note, never an error page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from shipyard.errors import ShipyardError
from shipyard.monitoring.drift_report import TEST_METHODS, ColumnDrift, DriftReport
from shipyard.monitoring.quality import QualityReport
from shipyard.monitoring.reports import MonitorReport
from shipyard.server.ui.monitoring_svg import HistogramSvg, histogram_svg
from shipyard.server.ui.previews import read_head
from shipyard.store.base import BlobStore
from shipyard.store.monitoring_base import ReportRecord

__all__ = ["MAX_CHARTS", "MAX_ROWS", "ColumnView", "ReportView", "column_views", "read_report"]

MAX_REPORT_BYTES = 64 * 1024 * 1024
MAX_CHARTS = 24  # column charts drawn; any other column's chart is one click away
MAX_ROWS = 1000  # rows of the per-column table; the JSON has them all
MAX_NEW_CATEGORIES = 5


@dataclass(frozen=True, slots=True)
class ColumnView:
    """One row of the per-column table, and its chart when it is drawn."""

    index: int  # position in the report, for anchors (column names may hold anything)
    drift: ColumnDrift
    chart: HistogramSvg | None

    @property
    def tested(self) -> bool:
        return self.drift.method is not None

    @property
    def by_test(self) -> bool:
        """Judged on a p-value (ks, chisquare) rather than on a distance."""
        return self.drift.method in TEST_METHODS

    @property
    def new_categories(self) -> str:
        shown = self.drift.new_categories[:MAX_NEW_CATEGORIES]
        more = len(self.drift.new_categories) - len(shown)
        return ", ".join(shown) + (f" … (+{more})" if more > 0 else "")


@dataclass(frozen=True)
class ReportView:
    """What the blob holds: the drift part always, the rest for a monitor report."""

    drift: DriftReport
    monitor_report: MonitorReport | None = None
    columns: list[ColumnView] = field(default_factory=list)
    charted: list[ColumnView] = field(default_factory=list)
    prediction: list[ColumnView] = field(default_factory=list)
    prediction_charted: list[ColumnView] = field(default_factory=list)

    @property
    def quality(self) -> QualityReport | None:
        return None if self.monitor_report is None else self.monitor_report.quality

    @property
    def notes(self) -> list[str]:
        return [] if self.monitor_report is None else self.monitor_report.notes


def _order(column: ColumnDrift) -> int:
    """Drifted columns first, then the other tested ones, then those not tested."""
    if column.drifted:
        return 0
    return 1 if column.method is not None else 2


def column_views(
    columns: list[ColumnDrift], charted: int, pinned: str | None = None
) -> tuple[list[ColumnView], list[ColumnView]]:
    """The table's rows (drifted first, else in the report's order) and the columns
    whose charts are drawn: ``pinned`` first, then the first ``charted`` rows."""
    order = sorted(range(len(columns)), key=lambda i: _order(columns[i]))
    wanted = [i for i in order if columns[i].column == pinned]
    wanted += [i for i in order if columns[i].histogram is not None][:charted]
    drawn = list(dict.fromkeys(i for i in wanted if columns[i].histogram is not None))
    charts = {}
    for i in drawn:
        histogram = columns[i].histogram
        charts[i] = None if histogram is None else histogram_svg(histogram)
    rows = [ColumnView(i, columns[i], charts.get(i)) for i in order]
    by_index = {row.index: row for row in rows}
    return rows, [by_index[i] for i in drawn if by_index[i].chart is not None]


def _parse(data: object) -> tuple[DriftReport, MonitorReport | None] | None:
    if not isinstance(data, dict):
        return None
    try:
        if isinstance(data.get("drift"), dict):
            report = MonitorReport.from_dict(data)
            return report.drift, report
        if isinstance(data.get("columns"), list):
            return DriftReport.from_dict(data), None
    except (KeyError, TypeError, ValueError, AttributeError, ShipyardError):
        return None
    return None


def read_report(
    blob_store: BlobStore, record: ReportRecord, pinned: str | None = None
) -> tuple[ReportView | None, str | None]:
    """The report's view, or None and why it cannot be shown."""
    try:
        raw = read_head(blob_store, record.report_digest, MAX_REPORT_BYTES + 1)
    except (ShipyardError, OSError):
        return None, "The report's JSON is not in the blob store."
    if len(raw) > MAX_REPORT_BYTES:
        return None, "The report's JSON is too large to show here; download it."
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None, "The report's JSON cannot be read."
    parsed = _parse(data)
    if parsed is None:
        return None, "The report's JSON holds no per-column results."
    drift, monitor_report = parsed
    columns, charted = column_views(drift.columns, MAX_CHARTS, pinned)
    prediction, predicted = column_views(drift.prediction, MAX_CHARTS)
    return ReportView(drift, monitor_report, columns, charted, prediction, predicted), None
