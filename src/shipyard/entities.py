"""Plain typed records that every layer passes around.

They carry no behaviour beyond small conveniences and never touch storage.
Times are integer milliseconds since the Unix epoch (UTC).
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

__all__ = [
    "ArtifactEntry",
    "Experiment",
    "LifecycleStage",
    "Metric",
    "Page",
    "Param",
    "Run",
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
