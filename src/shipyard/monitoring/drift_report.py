"""What :func:`~shipyard.monitoring.drift` returns: one :class:`ColumnDrift` per column,
the schema violations and the dataset verdict, as plain typed records.

``to_dict()`` gives JSON-safe data (no NaN, no numpy scalars) that
``from_dict()`` reads back; ``to_html()`` renders the report page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

__all__ = ["FORMAT", "ColumnDrift", "DriftReport", "Histogram", "SchemaViolation"]

FORMAT = 1
TEST_METHODS = ("ks", "chisquare")  # verdicts on a p-value; the others on a distance


def _number(value: float | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class Histogram:
    """Reference and current counts on shared cells, for the report page.

    Numerical columns: ``edges`` (one more than cells, equal widths over both
    samples' range). Categorical ones: ``labels`` (the most frequent categories
    of both tables together, then ``"(other)"`` when some were left out).
    Counts of sampled numerical columns are over the samples.
    """

    reference: list[int]
    current: list[int]
    edges: list[float] | None = None
    labels: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"reference": self.reference, "current": self.current}
        if self.edges is not None:
            data["edges"] = [_number(e) for e in self.edges]
        if self.labels is not None:
            data["labels"] = self.labels
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Histogram:
        edges = data.get("edges")
        return cls(
            reference=[int(c) for c in data["reference"]],
            current=[int(c) for c in data["current"]],
            edges=None if edges is None else [math.nan if e is None else float(e) for e in edges],
            labels=None if data.get("labels") is None else [str(v) for v in data["labels"]],
        )


@dataclass(frozen=True)
class ColumnDrift:
    """The comparison of one column.

    ``kind``: numerical, discrete (a number column with few distinct values,
    tested as categories), categorical, or unsupported (not tested).
    ``method``: ks, wasserstein, psi, chisquare or jensenshannon (None when
    not tested). Tests (ks, chisquare) flag drift when ``p_value <
    threshold``; distances when ``distance > threshold`` *and* the matching
    test's ``p_value`` is under 0.05 (see :mod:`shipyard.monitoring.drift_api`).
    ``new_count``: current rows holding a category the reference never had;
    ``out_of_range_count``: current numbers outside the reference's [min, max].
    ``sampled``: the test ran on a uniform sample of the rows.
    """

    column: str
    kind: str
    method: str | None
    drifted: bool
    statistic: float | None = None
    p_value: float | None = None
    distance: float | None = None
    threshold: float | None = None
    reference_type: str = ""
    current_type: str = ""
    reference_count: int = 0
    current_count: int = 0
    reference_missing_share: float | None = None
    current_missing_share: float | None = None
    new_categories: list[str] = field(default_factory=list)
    new_count: int = 0
    out_of_range_count: int = 0
    sampled: bool = False
    histogram: Histogram | None = None
    note: str | None = None

    @property
    def score(self) -> float | None:
        """What the threshold is compared with: the p-value of a test, else the distance."""
        return self.p_value if self.method in TEST_METHODS else self.distance

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float):
                value = _number(value)
            elif isinstance(value, Histogram):
                value = value.to_dict()
            elif isinstance(value, list):
                value = list(value)
            data[f.name] = value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnDrift:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if values.get("histogram") is not None:
            values["histogram"] = Histogram.from_dict(values["histogram"])
        values["new_categories"] = list(values.get("new_categories") or [])
        return cls(**values)


@dataclass(frozen=True)
class SchemaViolation:
    """``problem``: missing_column (in the reference, not in the current table),
    extra_column (the other way round) or type_changed (a different kind of value:
    number, string, boolean, datetime; integer <-> float is not a change)."""

    column: str
    problem: str
    reference_type: str | None = None
    current_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SchemaViolation:
        return cls(
            column=str(data["column"]),
            problem=str(data["problem"]),
            reference_type=data.get("reference_type"),
            current_type=data.get("current_type"),
        )


@dataclass(frozen=True)
class DriftReport:
    """The comparison of two tables.

    ``drift_share`` is the threshold: the dataset drifts when the share of
    drifted columns (``drifted_share``) reaches it. Columns that were not
    tested (unsupported types, no values) do not count; nor does the
    prediction, reported apart in ``prediction``.
    """

    columns: list[ColumnDrift]
    drift_share: float = 0.5
    prediction: list[ColumnDrift] = field(default_factory=list)
    schema_violations: list[SchemaViolation] = field(default_factory=list)
    reference_rows: int = 0
    current_rows: int = 0

    @property
    def tested_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.method is not None]

    @property
    def drifted_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.drifted]

    @property
    def drifted_share(self) -> float:
        tested = len(self.tested_columns)
        return len(self.drifted_columns) / tested if tested else 0.0

    @property
    def dataset_drift(self) -> bool:
        return bool(self.tested_columns) and self.drifted_share >= self.drift_share

    @property
    def prediction_drift(self) -> bool:
        return any(c.drifted for c in self.prediction)

    def __getitem__(self, column: str) -> ColumnDrift:
        for found in (*self.columns, *self.prediction):
            if found.column == column:
                return found
        raise KeyError(column)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "dataset_drift": self.dataset_drift,
            "drift_share": self.drift_share,
            "drifted_share": self.drifted_share,
            "drifted_columns": self.drifted_columns,
            "prediction_drift": self.prediction_drift,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "columns": [c.to_dict() for c in self.columns],
            "prediction": [c.to_dict() for c in self.prediction],
            "schema_violations": [v.to_dict() for v in self.schema_violations],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriftReport:
        """Read back :meth:`to_dict`'s output (the derived fields are recomputed)."""
        return cls(
            columns=[ColumnDrift.from_dict(c) for c in data.get("columns", [])],
            drift_share=float(data.get("drift_share", 0.5)),
            prediction=[ColumnDrift.from_dict(c) for c in data.get("prediction", [])],
            schema_violations=[
                SchemaViolation.from_dict(v) for v in data.get("schema_violations", [])
            ],
            reference_rows=int(data.get("reference_rows", 0)),
            current_rows=int(data.get("current_rows", 0)),
        )

    def to_html(self, path: str | Path | None = None, title: str = "Drift report") -> str:
        """The report as one self-contained HTML page (inline CSS and SVG, nothing fetched);
        written to ``path`` when given."""
        from shipyard.monitoring.report_html import render

        page = render(self, title)
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page
