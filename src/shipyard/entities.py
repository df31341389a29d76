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
    "MODEL_URI_SCHEME",
    "AliasEvent",
    "ArtifactEntry",
    "Dataset",
    "DatasetVersion",
    "Evaluation",
    "Experiment",
    "LifecycleStage",
    "Metric",
    "ModelVersion",
    "ModelVersionStatus",
    "Page",
    "Param",
    "PromotionDecision",
    "RegisteredModel",
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
class RunKeys:
    """The distinct metric, param and tag keys of some experiments' active runs.

    Each list is sorted by code point and holds at most ``MAX_RUN_KEYS`` keys
    (see :meth:`shipyard.store.base.Store.list_run_keys`).
    """

    metrics: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


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


# -- model registry ------------------------------------------------------------

MODEL_URI_SCHEME = "models:/"


class ModelVersionStatus(enum.StrEnum):
    """``READY`` versions serve and take aliases; ``ARCHIVED`` ones are kept but retired."""

    READY = "READY"
    ARCHIVED = "ARCHIVED"


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    """A named series of model versions; ``aliases`` maps each alias to the version it names."""

    name: str
    description: str | None
    created_at: int
    updated_at: int
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    latest_version: int | None = None


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One registered model package.

    ``source`` is the package's URI (``runs:/<run-id>/model``); ``package_digest``
    the BLAKE3 digest of the package's manifest file, which lists every file's
    hash, so the digest pins the whole package. ``flavor`` is copied from the
    manifest for listings.
    """

    name: str
    version: int
    source: str
    run_id: str | None
    package_digest: str
    flavor: str | None
    description: str | None
    user: str | None
    created_at: int
    updated_at: int
    status: ModelVersionStatus
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)

    @property
    def uri(self) -> str:
        return f"{MODEL_URI_SCHEME}{self.name}/{self.version}"


@dataclass(frozen=True, slots=True)
class AliasEvent:
    """One move of an alias: set (no ``from_version``), moved, or removed (no ``to_version``)."""

    name: str
    alias: str
    from_version: int | None
    to_version: int | None
    user: str | None
    reason: str | None
    created_at: int
    id: str


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Scores of one model on one table, linked to the model version and dataset version.

    ``metrics`` holds scalar scores (``accuracy``, ``f1_macro``, ``rmse`` ...);
    ``details`` the structured rest (confusion matrix, labels, per-slice scores);
    ``plots`` maps a plot's file name (``confusion_matrix.png``) to its blob digest.
    """

    id: str
    model_uri: str
    model_name: str | None
    model_version: int | None
    dataset: str | None
    dataset_version: int | None
    task: str
    target: str
    metrics: dict[str, float]
    details: dict[str, Any]
    plots: dict[str, str]
    row_count: int
    user: str | None
    created_at: int


@dataclass(frozen=True, slots=True)
class PromotionDecision:
    """What a promotion gate decided, and the scores it decided on, either way."""

    id: str
    name: str
    alias: str
    candidate_version: int
    incumbent_version: int | None
    metric: str
    greater_is_better: bool
    candidate_score: float
    incumbent_score: float | None
    min_delta: float
    thresholds: dict[str, float]
    promoted: bool
    reason: str
    candidate_evaluation_id: str
    incumbent_evaluation_id: str | None
    dataset: str | None
    dataset_version: int | None
    user: str | None
    created_at: int
