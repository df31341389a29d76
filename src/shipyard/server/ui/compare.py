"""The compare view: runs side by side, their params' differences, metrics overlaid.

``/compare?runs=<id>&runs=<id>&param=lr&metric=accuracy&diff_only=1``: the
selection, the scatter's axes and the table filter all live in the URL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response

from shipyard.entities import Run
from shipyard.errors import InvalidInputError
from shipyard.server.deps import StoreDep
from shipyard.server.ui.charts import chart_settings, colour, lower_is_better
from shipyard.server.ui.rendering import PageRoute, render

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MAX_COMPARED = 20
MAX_CHARTS = 24


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    values: list[str | None]
    differs: bool


@dataclass(frozen=True, slots=True)
class MetricRow:
    key: str
    values: list[float | None]
    best: int | None  # index of the best run, when the values differ
    lower_is_better: bool


def _param_rows(runs: list[Run]) -> list[Row]:
    keys = sorted({key for run in runs for key in run.params})
    rows = []
    for key in keys:
        values = [run.params.get(key) for run in runs]
        rows.append(Row(key, values, len(set(values)) > 1))
    return rows


def _metric_rows(runs: list[Run]) -> list[MetricRow]:
    keys = sorted({key for run in runs for key in run.metrics})
    rows = []
    for key in keys:
        values = [run.metrics[key].value if key in run.metrics else None for run in runs]
        lower = lower_is_better(key)
        finite = [(v, i) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
        best = None
        if len({v for v, _ in finite}) > 1:
            best = (min(finite) if lower else max(finite))[1]
        rows.append(MetricRow(key, values, best, lower))
    return rows


def _as_number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _scatter(runs: list[Run], param: str, metric: str) -> dict[str, Any]:
    """Points of ``param`` against ``metric``; a non-numeric param becomes categories."""
    raw = [run.params.get(param) for run in runs]
    numeric = all(_as_number(text) is not None for text in raw if text is not None)
    categories = sorted({text for text in raw if text is not None}) if not numeric else []
    points = []
    for index, (run, text) in enumerate(zip(runs, raw, strict=True)):
        point = run.metrics.get(metric)
        if text is None or point is None or not math.isfinite(point.value):
            continue
        x = _as_number(text) if numeric else float(categories.index(text))
        points.append(
            {
                "run": run.id,
                "name": run.name,
                "x": x,
                "label": text,
                "y": point.value,
                "color": colour(index),
            }
        )
    return {"param": param, "metric": metric, "categories": categories, "points": points}


def _pick(choice: str | None, options: list[str], preferred: list[str]) -> str | None:
    if choice:
        if choice not in options:
            raise InvalidInputError(f"none of the compared runs has {choice!r}")
        return choice
    return preferred[0] if preferred else (options[0] if options else None)


@router.get("/compare", summary="Compare runs")
def compare_page(request: Request, store: StoreDep) -> Response:
    query = request.query_params
    run_ids = list(dict.fromkeys(run_id for run_id in query.getlist("runs") if run_id))
    if len(run_ids) > MAX_COMPARED:
        raise InvalidInputError(f"compare at most {MAX_COMPARED} runs at once, got {len(run_ids)}")
    chart = chart_settings(query)
    runs = [store.get_run(run_id) for run_id in run_ids]
    experiments = {run.experiment_id: store.get_experiment(run.experiment_id) for run in runs}
    params = _param_rows(runs)
    metrics = _metric_rows(runs)
    differing = [row.key for row in params if row.differs]
    # The default scatter shows the param that varies most across these runs.
    spread = sorted((row for row in params if row.differs), key=lambda row: -len(set(row.values)))
    param = _pick(query.get("param"), [row.key for row in params], [row.key for row in spread])
    metric = _pick(query.get("metric"), [row.key for row in metrics], [])
    diff_only = query.get("diff_only") in ("1", "true", "on")
    return render(
        request,
        "compare.html",
        runs=runs,
        colours=[colour(i) for i in range(len(runs))],
        experiments=experiments,
        params=[row for row in params if row.differs or not diff_only],
        param_count=len(params),
        differing_count=len(differing),
        diff_only=diff_only,
        metrics=metrics,
        chart=chart,
        chart_keys=[row.key for row in metrics][:MAX_CHARTS],
        param=param,
        param_options=[row.key for row in params],
        metric=metric,
        scatter=_scatter(runs, param, metric) if param and metric else None,
    )
