"""Reference-vs-current histograms of a drift report's column, laid out for inline SVG.

The server computes the geometry and the template draws it, so the charts show
without JavaScript and take their colours from the page's theme (CSS classes,
not fill attributes). Bars are shares of each table's rows, not counts: the two
tables rarely have the same number of rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shipyard.monitoring.drift_report import Histogram

__all__ = ["Bar", "Cell", "HistogramSvg", "Tick", "histogram_svg"]

WIDTH, HEIGHT = 360, 150
LEFT, RIGHT, TOP = 36, 8, 8
AXIS_NUMERIC = 20  # room under the bars for the edge labels
AXIS_CATEGORIES = 44  # room for slanted category labels
MAX_LABELLED_CATEGORIES = 12
MAX_LABEL_CHARS = 10


@dataclass(frozen=True, slots=True)
class Cell:
    """One bin or category, in both tables."""

    label: str
    reference: int
    current: int
    reference_share: float
    current_share: float


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    side: str  # "reference" or "current"
    title: str


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    y: float
    text: str
    anchor: str  # SVG text-anchor
    slanted: bool = False


@dataclass(frozen=True, slots=True)
class HistogramSvg:
    width: int
    height: int
    baseline: float  # y of the x axis
    left: float
    right: float
    bars: list[Bar]
    ticks: list[Tick]
    y_ticks: list[Tick]
    cells: list[Cell]


def _edge(value: float) -> str:
    return "?" if math.isnan(value) else f"{value:.4g}"


def _labels(histogram: Histogram) -> list[str]:
    if histogram.labels is not None:
        return list(histogram.labels)
    edges = histogram.edges or []
    return [f"{_edge(edges[i])} to {_edge(edges[i + 1])}" for i in range(len(edges) - 1)]


def _shares(counts: list[int]) -> list[float]:
    total = sum(counts)
    return [count / total if total else 0.0 for count in counts]


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + "…"


def histogram_svg(histogram: Histogram) -> HistogramSvg | None:
    """The chart of one column; None when the histogram is empty or malformed."""
    labels = _labels(histogram)
    count = len(histogram.reference)
    if count == 0 or len(histogram.current) != count or len(labels) != count:
        return None
    ref, cur = _shares(histogram.reference), _shares(histogram.current)
    cells = [
        Cell(labels[i], histogram.reference[i], histogram.current[i], ref[i], cur[i])
        for i in range(count)
    ]
    categorical = histogram.labels is not None
    axis = AXIS_CATEGORIES if categorical and count <= MAX_LABELLED_CATEGORIES else AXIS_NUMERIC
    baseline = HEIGHT - axis
    plot_height = baseline - TOP
    top = max([*ref, *cur]) or 1.0
    slot = (WIDTH - LEFT - RIGHT) / count
    bar_width = max(slot * 0.4, 0.5)
    bars = []
    for i, cell in enumerate(cells):
        x = LEFT + i * slot + slot * 0.1
        for j, (side, share, rows) in enumerate(
            (
                ("reference", cell.reference_share, cell.reference),
                ("current", cell.current_share, cell.current),
            )
        ):
            height = share / top * plot_height
            bars.append(
                Bar(
                    x=round(x + j * bar_width, 2),
                    y=round(baseline - height, 2),
                    width=round(bar_width, 2),
                    height=round(height, 2),
                    side=side,
                    title=f"{cell.label}: {side} {share:.1%} ({rows:,} rows)",
                )
            )
    ticks: list[Tick] = []
    if categorical and count <= MAX_LABELLED_CATEGORIES:
        for i, cell in enumerate(cells):
            x = round(LEFT + (i + 0.5) * slot, 2)
            ticks.append(Tick(x, baseline + 12, _short(cell.label), "end", slanted=True))
    elif not categorical and histogram.edges:
        low, high = histogram.edges[0], histogram.edges[-1]
        ticks.append(Tick(LEFT, baseline + 14, _edge(low), "start"))
        ticks.append(Tick(WIDTH - RIGHT, baseline + 14, _edge(high), "end"))
    y_ticks = [
        Tick(LEFT - 4, round(baseline - plot_height * f, 2) + 3, f"{top * f:.0%}", "end")
        for f in (0.0, 0.5, 1.0)
    ]
    return HistogramSvg(WIDTH, HEIGHT, baseline, LEFT, WIDTH - RIGHT, bars, ticks, y_ticks, cells)
