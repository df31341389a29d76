"""Plain typed records that every layer passes around.

They carry no behaviour beyond small conveniences and never touch storage.
Times are integer milliseconds since the Unix epoch (UTC).
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")

__all__ = [
    "DATASET_URI_SCHEME",
    "ArtifactEntry",
    "Dataset",
    "DatasetVersion",
    "Experiment",
    "LifecycleStage",
    "Metric",
    "Page",
    "Param",
    "Run",
    "RunInput",
    "RunStatus",
    "Tag",
    "ViewType",
    "now_ms",
]


def now_ms() -> int:
    """The current time in integer milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


class RunStatus(enum.StrEnum):
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_terminal(self) -> bool:
        return self is not RunStatus.RUNNING


class LifecycleStage(enum.StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"


class ViewType(enum.StrEnum):
    """Which records a listing shows: only active ones, only deleted ones, or all."""

    ACTIVE = "active"
    DELETED = "deleted"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class Metric:
    """One point of a metric's history. ``value`` may be NaN or +-inf."""

    key: str
    value: float
    step: int = 0
    timestamp: int = field(default_factory=now_ms)


@dataclass(frozen=True, slots=True)
class Param:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class Tag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class Experiment:
    id: str
    name: str
    lifecycle_stage: LifecycleStage
    created_at: int
    updated_at: int
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Run:
    """A run with its params, tags and the latest point of each metric."""

    id: str
    experiment_id: str
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None
    lifecycle_stage: LifecycleStage
    parent_run_id: str | None = None
    user: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)

    @property
    def duration_ms(self) -> int | None:
        return None if self.end_time is None else self.end_time - self.start_time


@dataclass(frozen=True, slots=True)
class ArtifactEntry:
    """A file of a run's artifacts: its relative path and the blob holding its bytes."""

    path: str
    size: int
    digest: str


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing; pass ``next_page_token`` back to get the next one."""

    items: list[T]
    next_page_token: str | None = None


# -- data versioning -----------------------------------------------------------

DATASET_URI_SCHEME = "datasets:/"


@dataclass(frozen=True, slots=True)
class Dataset:
    """A named series of dataset versions; ``latest_version`` is the newest live one."""

    name: str
    description: str | None
    created_at: int
    updated_at: int
    lifecycle_stage: LifecycleStage
    tags: dict[str, str] = field(default_factory=dict)
    latest_version: int | None = None


@dataclass(frozen=True, slots=True)
class DatasetVersion:
    """One immutable version of a dataset.

    The file list lives in a manifest blob (``manifest_digest``) in the blob
    store, so the row stays small however many files the version holds.
    ``tags`` are version labels (``v1``, ``golden``): each names exactly one
    version of its dataset.
    """

    dataset: str
    version: int
    manifest_digest: str
    file_count: int
    total_size: int
    message: str | None
    author: str | None
    created_at: int
    parent_version: int | None
    tags: list[str]
    lifecycle_stage: LifecycleStage
    profile: dict[str, Any] | None
    id: str

    @property
    def uri(self) -> str:
        return f"{DATASET_URI_SCHEME}{self.dataset}/{self.version}"


@dataclass(frozen=True, slots=True)
class RunInput:
    """A dataset version a run used: one edge of the lineage graph."""

    run_id: str
    dataset: str
    version: int
    created_at: int
