"""Entities to JSON and back: the one wire format the server and RestStore share.

JSON has no NaN or infinity, so non-finite metric values travel as the strings
``"NaN"``, ``"Infinity"`` and ``"-Infinity"``; every other value is a number.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from shipyard.entities import (
    ArtifactEntry,
    Dataset,
    DatasetVersion,
    Experiment,
    LifecycleStage,
    Metric,
    Page,
    Run,
    RunInput,
    RunStatus,
)
from shipyard.errors import InvalidInputError

T = TypeVar("T")

__all__ = [
    "NON_FINITE",
    "artifact_from_json",
    "artifact_to_json",
    "dataset_from_json",
    "dataset_to_json",
    "dataset_version_from_json",
    "dataset_version_to_json",
    "decode_float",
    "encode_float",
    "encode_floats",
    "experiment_from_json",
    "experiment_to_json",
    "history_from_json",
    "history_to_json",
    "metric_from_json",
    "metric_to_json",
    "page_to_json",
    "run_from_json",
    "run_input_from_json",
    "run_input_to_json",
    "run_to_json",
]

NON_FINITE: dict[str, float] = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def encode_float(value: float) -> float | str:
    """The JSON form of a value; anything but a non-finite float passes unchanged."""
    if not isinstance(value, float) or math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def encode_floats(values: Sequence[float]) -> Sequence[float | str]:
    """The JSON form of many floats; when all are finite (their sum is), the values as given."""
    if math.isfinite(sum(values)):
        return values
    return [encode_float(value) for value in values]


def decode_float(value: object) -> float:
    """A JSON number, or one of the three strings that stand for non-finite values."""
    if isinstance(value, str):
        try:
            return NON_FINITE[value]
        except KeyError:
            raise InvalidInputError(
                f"metric value {value!r} is not a number, 'NaN', 'Infinity' or '-Infinity'"
            ) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(f"metric value must be a number, got {value!r}")
    return float(value)


# -- metrics -------------------------------------------------------------------
def metric_to_json(metric: Metric) -> dict[str, Any]:
    return {
        "key": metric.key,
        "value": encode_float(metric.value),
        "step": metric.step,
        "timestamp": metric.timestamp,
    }


def metric_from_json(data: dict[str, Any]) -> Metric:
    return Metric(
        key=data["key"],
        value=decode_float(data["value"]),
        step=data["step"],
        timestamp=data["timestamp"],
    )


def history_to_json(key: str, points: list[Metric]) -> dict[str, Any]:
    """A metric's history in columns: a third of the bytes of a list of points."""
    return {
        "key": key,
        "steps": [point.step for point in points],
        "timestamps": [point.timestamp for point in points],
        "values": [encode_float(point.value) for point in points],
    }


def history_from_json(data: dict[str, Any]) -> list[Metric]:
    key = data["key"]
    return [
        Metric(key=key, value=decode_float(value), step=step, timestamp=timestamp)
        for step, timestamp, value in zip(
            data["steps"], data["timestamps"], data["values"], strict=True
        )
    ]


# -- experiments ---------------------------------------------------------------
def experiment_to_json(experiment: Experiment) -> dict[str, Any]:
    return {
        "id": experiment.id,
        "name": experiment.name,
        "lifecycle_stage": experiment.lifecycle_stage.value,
        "created_at": experiment.created_at,
        "updated_at": experiment.updated_at,
        "tags": dict(experiment.tags),
    }


def experiment_from_json(data: dict[str, Any]) -> Experiment:
    return Experiment(
        id=data["id"],
        name=data["name"],
        lifecycle_stage=LifecycleStage(data["lifecycle_stage"]),
        created_at=data["created_at"],
        updated_at=data["updated_at"],
        tags=dict(data.get("tags") or {}),
    )


# -- runs ----------------------------------------------------------------------
def run_to_json(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "experiment_id": run.experiment_id,
        "name": run.name,
        "status": run.status.value,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "lifecycle_stage": run.lifecycle_stage.value,
        "parent_run_id": run.parent_run_id,
        "user": run.user,
        "params": dict(run.params),
        "tags": dict(run.tags),
        "metrics": {key: metric_to_json(metric) for key, metric in run.metrics.items()},
    }


def run_from_json(data: dict[str, Any]) -> Run:
    return Run(
        id=data["id"],
        experiment_id=data["experiment_id"],
        name=data["name"],
        status=RunStatus(data["status"]),
        start_time=data["start_time"],
        end_time=data.get("end_time"),
        lifecycle_stage=LifecycleStage(data["lifecycle_stage"]),
        parent_run_id=data.get("parent_run_id"),
        user=data.get("user"),
        params=dict(data.get("params") or {}),
        tags=dict(data.get("tags") or {}),
        metrics={
            key: metric_from_json(value) for key, value in (data.get("metrics") or {}).items()
        },
    )


# -- artifacts -----------------------------------------------------------------
def artifact_to_json(entry: ArtifactEntry) -> dict[str, Any]:
    return {"path": entry.path, "size": entry.size, "digest": entry.digest}


def artifact_from_json(data: dict[str, Any]) -> ArtifactEntry:
    return ArtifactEntry(path=data["path"], size=data["size"], digest=data["digest"])


def page_to_json(
    page: Page[T], field: str, encode: Callable[[T], dict[str, Any]]
) -> dict[str, Any]:
    return {field: [encode(item) for item in page.items], "next_page_token": page.next_page_token}


# -- datasets ------------------------------------------------------------------
def dataset_to_json(dataset: Dataset) -> dict[str, Any]:
    return {
        "name": dataset.name,
        "description": dataset.description,
        "created_at": dataset.created_at,
        "updated_at": dataset.updated_at,
        "lifecycle_stage": dataset.lifecycle_stage.value,
        "tags": dict(dataset.tags),
        "latest_version": dataset.latest_version,
    }


def dataset_from_json(data: dict[str, Any]) -> Dataset:
    return Dataset(
        name=data["name"],
        description=data.get("description"),
        created_at=data["created_at"],
        updated_at=data["updated_at"],
        lifecycle_stage=LifecycleStage(data["lifecycle_stage"]),
        tags=dict(data.get("tags") or {}),
        latest_version=data.get("latest_version"),
    )


def dataset_version_to_json(version: DatasetVersion) -> dict[str, Any]:
    return {
        "id": version.id,
        "dataset": version.dataset,
        "version": version.version,
        "uri": version.uri,
        "manifest_digest": version.manifest_digest,
        "file_count": version.file_count,
        "total_size": version.total_size,
        "message": version.message,
        "author": version.author,
        "created_at": version.created_at,
        "parent_version": version.parent_version,
        "tags": list(version.tags),
        "lifecycle_stage": version.lifecycle_stage.value,
        "profile": version.profile,
    }


def dataset_version_from_json(data: dict[str, Any]) -> DatasetVersion:
    return DatasetVersion(
        dataset=data["dataset"],
        version=data["version"],
        manifest_digest=data["manifest_digest"],
        file_count=data["file_count"],
        total_size=data["total_size"],
        message=data.get("message"),
        author=data.get("author"),
        created_at=data["created_at"],
        parent_version=data.get("parent_version"),
        tags=list(data.get("tags") or []),
        lifecycle_stage=LifecycleStage(data["lifecycle_stage"]),
        profile=data.get("profile"),
        id=data["id"],
    )


def run_input_to_json(item: RunInput) -> dict[str, Any]:
    return {
        "run_id": item.run_id,
        "dataset": item.dataset,
        "version": item.version,
        "created_at": item.created_at,
    }


def run_input_from_json(data: dict[str, Any]) -> RunInput:
    return RunInput(
        run_id=data["run_id"],
        dataset=data["dataset"],
        version=data["version"],
        created_at=data["created_at"],
    )
