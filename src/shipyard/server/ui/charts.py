"""Chart settings shared by the run and compare pages, read from the query string,
and which way a metric improves (for marking the best value in a table).

``x`` picks the axis (``step``, ``relative`` seconds since the first point, or
``wall`` clock time) and ``smooth`` the exponential moving average weight
(0 = raw, up to 0.99). Both stay in the URL so a chart view can be shared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.datastructures import QueryParams

from shipyard.errors import InvalidInputError

__all__ = [
    "AXES",
    "DEFAULT_MAX_POINTS",
    "PALETTE",
    "ChartSettings",
    "chart_settings",
    "colour",
    "lower_is_better",
]

AXES = {"step": "Step", "relative": "Relative time (s)", "wall": "Wall time"}
DEFAULT_MAX_POINTS = 1000
MAX_SMOOTHING = 0.99
# Metrics whose name says lower is better; everything else is taken as higher-is-better.
_LOWER_IS_BETTER = re.compile(r"loss|err|mse|mae|rmse|perplexity|latency|time|duration", re.I)


def lower_is_better(metric: str) -> bool:
    """Whether a metric reads better when smaller, judged by its name (``rmse``, ``log_loss``)."""
    return bool(_LOWER_IS_BETTER.search(metric))


@dataclass(frozen=True, slots=True)
class ChartSettings:
    x: str = "step"
    smooth: float = 0.0

    @property
    def axes(self) -> dict[str, str]:
        return AXES


def chart_settings(query: QueryParams) -> ChartSettings:
    x = query.get("x") or "step"
    if x not in AXES:
        raise InvalidInputError(f"x must be one of {', '.join(AXES)}, got {x!r}")
    raw = query.get("smooth") or "0"
    try:
        smooth = float(raw)
    except ValueError:
        raise InvalidInputError(f"smooth must be a number from 0 to 0.99, got {raw!r}") from None
    if not 0 <= smooth <= MAX_SMOOTHING:
        raise InvalidInputError(f"smooth must be a number from 0 to 0.99, got {raw!r}")
    return ChartSettings(x, smooth)


# Series colours, in run order; readable on the light and the dark theme.
PALETTE = [
    "#2f6fde",
    "#e0662f",
    "#22a06b",
    "#c43c9a",
    "#8a63d2",
    "#c9a100",
    "#1aa3b8",
    "#d43f3f",
    "#6b7d2a",
    "#7a5230",
]


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]
