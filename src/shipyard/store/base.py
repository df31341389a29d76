"""The two storage interfaces every feature package talks to.

``Store`` holds metadata (experiments, runs, params, metrics, tags, artifact
listings); ``BlobStore`` holds bytes, addressed by their BLAKE3 hash. Each has
one implementation per way of reaching it (SQL and REST for ``Store``; fsspec
and REST for ``BlobStore``), and one contract test suite runs on all of them.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Sequence
from typing import BinaryIO

from shipyard.entities import (
    ArtifactEntry,
    Experiment,
    Metric,
    Page,
    Param,
    Run,
    RunKeys,
    RunStatus,
    Tag,
    ViewType,
)
from shipyard.errors import InvalidInputError
from shipyard.store.datasets_base import DatasetStore
from shipyard.store.models_base import ModelRegistryStore
from shipyard.store.monitoring_base import MonitoringStore

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 10_000
# The most keys of each kind that list_run_keys returns.
MAX_RUN_KEYS = 1000


class Store(DatasetStore, ModelRegistryStore, MonitoringStore, abc.ABC):
    """Metadata of experiments and runs, of dataset versions (:class:`DatasetStore`) and of
    the model registry (:class:`ModelRegistryStore`).

    Every method raises :class:`shipyard.errors.ShipyardError` subclasses for a
    caller's mistake (``NotFoundError``, ``AlreadyExistsError``, ``ConflictError``,
    ``InvalidInputError``) and validates its own input.
    """

    # -- experiments -------------------------------------------------------
    @abc.abstractmethod
    def create_experiment(self, name: str, tags: dict[str, str] | None = None) -> Experiment:
        """Create an experiment; ``AlreadyExistsError`` if the name is taken (deleted ones too)."""

    @abc.abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment: ...

    @abc.abstractmethod
    def get_experiment_by_name(self, name: str) -> Experiment:
        """The experiment with this exact name, active or deleted; ``NotFoundError`` if none."""

    @abc.abstractmethod
    def list_experiments(
        self,
        view: ViewType = ViewType.ACTIVE,
        max_results: int = DEFAULT_PAGE_SIZE,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        """Experiments ordered by name."""

    @abc.abstractmethod
    def rename_experiment(self, experiment_id: str, new_name: str) -> Experiment: ...

    @abc.abstractmethod
    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete: the experiment and its runs disappear from active listings."""

    @abc.abstractmethod
    def restore_experiment(self, experiment_id: str) -> None: ...

    @abc.abstractmethod
    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None: ...

    @abc.abstractmethod
    def delete_experiment_tag(self, experiment_id: str, key: str) -> None: ...

    # -- runs --------------------------------------------------------------
    @abc.abstractmethod
    def create_run(
        self,
        experiment_id: str,
        name: str | None = None,
        tags: dict[str, str] | None = None,
        parent_run_id: str | None = None,
        start_time: int | None = None,
        user: str | None = None,
    ) -> Run:
        """Start a RUNNING run; a missing name gets a generated one (``brave-owl-42``)."""

    @abc.abstractmethod
    def get_run(self, run_id: str) -> Run:
        """The run with params, tags and latest metrics, active or deleted."""

    @abc.abstractmethod
    def update_run(
        self,
        run_id: str,
        status: RunStatus | None = None,
        end_time: int | None = None,
        name: str | None = None,
    ) -> Run:
        """Change status, end time or name. A terminal status without ``end_time`` sets now."""

    @abc.abstractmethod
    def delete_run(self, run_id: str) -> None: ...

    @abc.abstractmethod
    def restore_run(self, run_id: str) -> None: ...

    @abc.abstractmethod
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[Tag] = (),
        idempotency_key: str | None = None,
    ) -> None:
        """Store metrics, params and tags in one transaction.

        A param that already holds a different value raises ``ConflictError``
        naming both values, and nothing of the batch is stored. A batch whose
        ``idempotency_key`` was already applied is ignored, so a retry stores once.
        """

    def log_metric_columns(
        self,
        run_id: str,
        keys: Sequence[str],
        values: Sequence[float],
        steps: Sequence[int],
        timestamps: Sequence[int],
        idempotency_key: str | None = None,
    ) -> None:
        """``log_batch`` of the metric points ``zip(keys, values, steps, timestamps)``.

        The four sequences must have one length. Stores override this to skip
        building a :class:`Metric` per point, which costs more than storing it.
        """
        if not len(keys) == len(values) == len(steps) == len(timestamps):
            raise InvalidInputError(
                "metric keys, values, steps and timestamps must have one length, got "
                f"{len(keys)}, {len(values)}, {len(steps)} and {len(timestamps)}"
            )
        metrics = list(map(Metric, keys, values, steps, timestamps))
        self.log_batch(run_id, metrics=metrics, idempotency_key=idempotency_key)

    @abc.abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None: ...

    @abc.abstractmethod
    def get_metric_history(
        self, run_id: str, key: str, max_points: int | None = None
    ) -> list[Metric]:
        """Every point of one metric ordered by (step, timestamp).

        With ``max_points``, a downsampled history of at most that many points
        that keeps the first, the last, and each bucket's minimum and maximum.
        """

    @abc.abstractmethod
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        view: ViewType = ViewType.ACTIVE,
        max_results: int = DEFAULT_PAGE_SIZE,
        page_token: str | None = None,
    ) -> Page[Run]:
        """Runs of the given experiments (all experiments when empty) matching the filter.

        ``filter_string`` is the filter language (``metrics.acc > 0.9 and params.model = 'svm'``);
        ``order_by`` items look like ``metrics.acc DESC`` or ``attributes.start_time``.
        The default order is start time, newest first.
        """

    @abc.abstractmethod
    def list_run_keys(self, experiment_ids: Sequence[str]) -> RunKeys:
        """The distinct metric, param and tag keys of the active runs of these experiments.

        All experiments when ``experiment_ids`` is empty; runs that are deleted, or
        whose experiment is, do not count (the runs ``search_runs`` lists by default).
        Each list is sorted by code point and capped at :data:`MAX_RUN_KEYS` keys: a
        store with more keys of a kind returns the first ``MAX_RUN_KEYS`` in the
        database's order, so past the cap the lists of two backends may differ.
        """

    # -- artifacts ---------------------------------------------------------
    @abc.abstractmethod
    def log_artifacts(self, run_id: str, entries: Sequence[ArtifactEntry]) -> None:
        """Record files of a run; each blob must already be in the blob store."""

    @abc.abstractmethod
    def list_artifacts(self, run_id: str, prefix: str | None = None) -> list[ArtifactEntry]:
        """Files of a run ordered by path; ``prefix`` limits to a folder."""

    @abc.abstractmethod
    def get_artifact(self, run_id: str, path: str) -> ArtifactEntry: ...

    # -- lifecycle -----------------------------------------------------------
    def close(self) -> None:
        """Release connections; the default has nothing to release."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class BlobStore(abc.ABC):
    """Bytes addressed by the lowercase hex BLAKE3 hash of their content."""

    @abc.abstractmethod
    def put(self, source: BinaryIO, expected_digest: str | None = None) -> tuple[str, int]:
        """Stream ``source`` in and return (digest, size).

        Storing bytes already present is cheap and stores nothing twice. With
        ``expected_digest``, a mismatch raises ``DataCorruptionError`` and stores nothing.
        """

    def put_file(self, path: str) -> tuple[str, int]:
        with open(path, "rb") as handle:
            return self.put(handle)

    @abc.abstractmethod
    def open(self, digest: str, offset: int = 0) -> Iterator[bytes]:
        """Stream the blob's bytes from ``offset``; the hash is verified when read whole.

        ``NotFoundError`` when absent; ``DataCorruptionError`` when the bytes no longer match.
        """

    @abc.abstractmethod
    def exists(self, digest: str) -> bool: ...

    @abc.abstractmethod
    def missing(self, digests: Iterable[str]) -> set[str]:
        """Which of these digests are not stored: clients upload only those."""

    @abc.abstractmethod
    def size(self, digest: str) -> int: ...

    def close(self) -> None:
        """Release connections; the default has nothing to release."""
