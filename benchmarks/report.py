"""The results: one row per measurement, both tools side by side, printed and saved as JSON."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

TARGETS = {
    "ingest.best": 20.0,
    "search.100000": 50.0,
    "data.big": 5.0,
    "data.small": 5.0,
    "data.small_unchanged": 5.0,
    "data.small_changed": 5.0,
    "data.get": 5.0,
}


@dataclass
class Row:
    """One measurement: each tool's repetitions; the median is what counts."""

    id: str
    label: str
    unit: str
    higher_is_better: bool
    shipyard: list[float]
    mlflow: list[float]
    shipyard_how: str
    mlflow_how: str
    scale: float = 1.0  # multiply raw values by this for display (e.g. s -> ms)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def shipyard_median(self) -> float:
        return statistics.median(self.shipyard) * self.scale

    @property
    def mlflow_median(self) -> float:
        return statistics.median(self.mlflow) * self.scale

    @property
    def ratio(self) -> float:
        """How many times better Shipyard is (below 1: worse)."""
        sy, ml = self.shipyard_median, self.mlflow_median
        if sy <= 0 or ml <= 0:
            return float("nan")
        return sy / ml if self.higher_is_better else ml / sy

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            shipyard_median=self.shipyard_median,
            mlflow_median=self.mlflow_median,
            ratio=self.ratio,
            target_ratio=TARGETS.get(self.id),
        )
        return data


def _format(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def print_table(console: Console, rows: list[Row], title: str, other: str = "MLflow") -> None:
    """The rows as a table; ``other`` names the tool in the ``mlflow`` fields (e.g. DVC)."""
    table = Table(title=title, title_justify="left")
    table.add_column("measurement")
    table.add_column("unit")
    table.add_column("Shipyard", justify="right")
    table.add_column(other, justify="right")
    table.add_column(f"Shipyard vs {other}", justify="right")
    for row in rows:
        ratio = row.ratio
        target = TARGETS.get(row.id)
        style = "green" if ratio >= (target or 1.0) else ("yellow" if ratio >= 1.0 else "red")
        text = f"{ratio:.1f}x" if ratio >= 1 else f"{ratio:.2f}x"
        if target is not None:
            text += f" (target {target:.0f}x)"
        table.add_row(
            row.label,
            row.unit,
            _format(row.shipyard_median),
            _format(row.mlflow_median),
            f"[{style}]{text}[/]",
        )
    console.print(table)
    console.print(
        "[dim]Medians of the repetitions; ratio = how many times better Shipyard is "
        "(higher throughput or lower latency).[/]"
    )
    for row in rows:
        console.print(
            f"[dim]- {row.label}: Shipyard {row.shipyard_how}; {other} {row.mlflow_how}[/]"
        )


def write_json(
    path: Path, meta: dict[str, Any], rows: list[Row], notes: list[str], other: str = "mlflow"
) -> None:
    """Save the rows; ``other`` renames the ``mlflow`` fields (``dvc``, ``dvc_median``...)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    results = [
        {key.replace("mlflow", other, 1): value for key, value in row.to_json().items()}
        for row in rows
    ]
    document = {"meta": meta, "results": results, "notes": notes}
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
