"""Runs as a pandas DataFrame, and several runs compared side by side.

pandas is imported when a frame is built, not when ``shipyard`` is imported.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipyard.entities import Run, ViewType
from shipyard.errors import InvalidInputError
from shipyard.store.sql.checks import check_view
from shipyard.tracking.client import Client

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BASE_COLUMNS", "Comparison", "compare_runs", "runs_frame", "search_runs"]

BASE_COLUMNS = [
    "run_id",
    "experiment_id",
    "run_name",
    "status",
    "user",
    "parent_run_id",
    "start_time",
    "end_time",
]


def runs_frame(runs: Iterable[Run]) -> pd.DataFrame:
    """One row per run: attributes, then ``metrics.<key>``, ``params.<key>``, ``tags.<key>``.

    ``start_time`` and ``end_time`` are UTC datetimes; a missing value is NaN/NaT/None.
    """
    import pandas as pd

    rows: list[dict[str, object]] = []
    metric_keys: set[str] = set()
    param_keys: set[str] = set()
    tag_keys: set[str] = set()
    for run in runs:
        row: dict[str, object] = {
            "run_id": run.id,
            "experiment_id": run.experiment_id,
            "run_name": run.name,
            "status": str(run.status),
            "user": run.user,
            "parent_run_id": run.parent_run_id,
            "start_time": run.start_time,
            "end_time": run.end_time,
        }
        for key, metric in run.metrics.items():
            row[f"metrics.{key}"] = metric.value
            metric_keys.add(key)
        for key, value in run.params.items():
            row[f"params.{key}"] = value
            param_keys.add(key)
        for key, value in run.tags.items():
            row[f"tags.{key}"] = value
            tag_keys.add(key)
        rows.append(row)
    columns = [
        *BASE_COLUMNS,
        *(f"metrics.{k}" for k in sorted(metric_keys)),
        *(f"params.{k}" for k in sorted(param_keys)),
        *(f"tags.{k}" for k in sorted(tag_keys)),
    ]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    for column in ("start_time", "end_time"):
        frame[column] = pd.to_datetime(frame[column].astype("float64"), unit="ms", utc=True)
    for key in metric_keys:
        frame[f"metrics.{key}"] = frame[f"metrics.{key}"].astype("float64")
    return frame


def search_runs(
    client: Client,
    filter: str | None = None,
    order_by: Sequence[str] | str | None = None,
    experiments: Sequence[str] | str | None = None,
    limit: int = 1000,
    view: ViewType | str = ViewType.ACTIVE,
) -> pd.DataFrame:
    """Runs matching ``filter`` in ``experiments`` (names or ids; None: all experiments)."""
    if isinstance(experiments, str):
        experiments = [experiments]
    if isinstance(order_by, str):
        order_by = [order_by]
    found = client.iter_runs(
        client.experiment_ids(experiments), filter, order_by, check_view(view), limit
    )
    return runs_frame(found)


@dataclass(frozen=True, slots=True)
class Comparison:
    """Several runs side by side: each param's and each metric's value per run.

    Lists follow the order of ``runs``; None where a run lacks the key.
    """

    runs: list[Run]
    params: dict[str, list[str | None]]
    metrics: dict[str, list[float | None]]

    @property
    def differing_params(self) -> dict[str, list[str | None]]:
        return {k: v for k, v in self.params.items() if len(set(v)) > 1}

    @property
    def same_params(self) -> dict[str, str | None]:
        return {k: v[0] for k, v in self.params.items() if len(set(v)) == 1}

    @property
    def differing_metrics(self) -> dict[str, list[float | None]]:
        return {k: v for k, v in self.metrics.items() if len({_metric_key(x) for x in v}) > 1}

    def to_frame(self) -> pd.DataFrame:
        """Rows ``params.<key>`` and ``metrics.<key>``, one column per run (named by id)."""
        import pandas as pd

        data: dict[str, list[object]] = {}
        for key, values in self.params.items():
            data[f"params.{key}"] = list(values)
        for key, metric_values in self.metrics.items():
            data[f"metrics.{key}"] = list(metric_values)
        frame = pd.DataFrame.from_dict(
            data, orient="index", columns=[run.id for run in self.runs], dtype=object
        )
        frame.index.name = "key"
        return frame


def _metric_key(value: float | None) -> object:
    # NaN != NaN, yet two NaN values do not differ for a reader.
    return "nan" if value is not None and math.isnan(value) else value


def compare_runs(client: Client, run_ids: Sequence[str]) -> Comparison:
    if isinstance(run_ids, str) or not run_ids:
        raise InvalidInputError("compare_runs needs a list of run ids")
    runs: list[Run] = []
    for run_id in run_ids:
        run = client.get_run(run_id)
        if all(run.id != seen.id for seen in runs):
            runs.append(run)
    param_keys = sorted({key for run in runs for key in run.params})
    metric_keys = sorted({key for run in runs for key in run.metrics})
    params = {key: [run.params.get(key) for run in runs] for key in param_keys}
    metrics: dict[str, list[float | None]] = {
        key: [run.metrics[key].value if key in run.metrics else None for run in runs]
        for key in metric_keys
    }
    return Comparison(runs, params, metrics)
