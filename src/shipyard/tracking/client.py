"""One object holding a Store and a BlobStore, with the operations built on both.

``Client()`` reads ``SHIPYARD_URI`` (see :mod:`shipyard.config`); stores open on
first use, so constructing a client does no I/O. The fluent functions
(``sy.start_run``, ``sy.log_metric``, ...) use one default client per process.
"""

from __future__ import annotations

import logging
import re
import tempfile
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from shipyard.config import DEFAULT_EXPERIMENT, Settings, resolve_settings
from shipyard.entities import (
    ArtifactEntry,
    Experiment,
    LifecycleStage,
    Metric,
    Run,
    ViewType,
)
from shipyard.errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
)
from shipyard.store.base import MAX_PAGE_SIZE, BlobStore, Store
from shipyard.tracking import artifacts, state
from shipyard.tracking.active_run import ActiveRun, param_text
from shipyard.tracking.batching import DEFAULT_RETRY_SECONDS, MetricBatcher
from shipyard.tracking.context import capture_context, current_user
from shipyard.validation import validate_key, validate_name, validate_tag_value

__all__ = ["MIN_PREFIX_LENGTH", "Client"]

log = logging.getLogger(__name__)

MIN_PREFIX_LENGTH = 6
_RUN_ID_RE = re.compile(r"[0-9a-f]{32}")
_PREFIX_RE = re.compile(r"[0-9a-f]+")


class Client:
    """Tracking operations on one store. ``retry_seconds`` bounds metric retries per batch."""

    def __init__(
        self,
        uri: str | None = None,
        *,
        artifacts_uri: str | None = None,
        store: Store | None = None,
        blob_store: BlobStore | None = None,
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
    ) -> None:
        self.settings: Settings = resolve_settings(uri, artifacts_uri)
        self.retry_seconds = retry_seconds
        self._store = store
        self._blob_store = blob_store
        self._metrics_store: Store | None = None
        self._store_given = store is not None
        self._lock = threading.Lock()
        self._experiment_ids: dict[str, str] = {}

    @property
    def store(self) -> Store:
        if self._store is None:
            with self._lock:
                if self._store is None:
                    from shipyard.store.factory import open_store

                    self._store = open_store(self.settings)
        return self._store

    @property
    def metrics_store(self) -> Store:
        """The store metric batches go to: a server's calls are tried once each there,
        so that the batcher's own retries bound the whole wait (``retry_seconds``)."""
        if self._store_given or self.settings.kind != "rest":
            return self.store
        if self._metrics_store is None:
            with self._lock:
                if self._metrics_store is None:
                    from shipyard.store.rest.http import RetryPolicy
                    from shipyard.store.rest.store import RestStore

                    self._metrics_store = RestStore(
                        self.settings.uri,
                        token=self.settings.token,
                        retry=RetryPolicy(attempts=1),
                    )
        return self._metrics_store

    @property
    def blob_store(self) -> BlobStore:
        if self._blob_store is None:
            with self._lock:
                if self._blob_store is None:
                    from shipyard.store.factory import open_blob_store

                    self._blob_store = open_blob_store(self.settings)
        return self._blob_store

    def close(self) -> None:
        if self._metrics_store is not None:
            self._metrics_store.close()
        if self._store is not None:
            self._store.close()
        if self._blob_store is not None:
            self._blob_store.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- experiments --------------------------------------------------------------
    def get_experiment(self, name_or_id: str) -> Experiment:
        """An experiment by exact name, else by id; ``NotFoundError`` if neither matches."""
        try:
            return self.store.get_experiment_by_name(name_or_id)
        except NotFoundError:
            pass
        try:
            return self.store.get_experiment(name_or_id)
        except (NotFoundError, InvalidInputError):
            raise NotFoundError(f"no experiment named {name_or_id!r}") from None

    def get_or_create_experiment(self, name: str) -> Experiment:
        validate_name(name, "experiment name")
        try:
            experiment = self.store.get_experiment_by_name(name)
        except NotFoundError:
            try:
                experiment = self.store.create_experiment(name)
            except AlreadyExistsError:  # another process created it meanwhile
                experiment = self.store.get_experiment_by_name(name)
        self._experiment_ids[name] = experiment.id
        return experiment

    def experiment_ids(self, names_or_ids: Sequence[str] | None) -> list[str]:
        if not names_or_ids:
            return []
        return [self.get_experiment(item).id for item in names_or_ids]

    def iter_experiments(self, view: ViewType = ViewType.ACTIVE) -> Iterator[Experiment]:
        token: str | None = None
        while True:
            page = self.store.list_experiments(view, max_results=1000, page_token=token)
            yield from page.items
            token = page.next_page_token
            if not token:
                return

    def _experiment_id_for_run(self, name: str) -> str:
        cached = self._experiment_ids.get(name)
        if cached is not None:
            return cached
        experiment = self.get_or_create_experiment(name)
        if experiment.lifecycle_stage is LifecycleStage.DELETED:
            raise ConflictError(
                f"experiment {name!r} is deleted; restore it or choose another experiment"
            )
        return experiment.id

    # -- runs ---------------------------------------------------------------------
    def start_run(
        self,
        name: str | None = None,
        experiment: str | None = None,
        tags: Mapping[str, object] | None = None,
        parent: ActiveRun | Run | str | None = None,
        *,
        capture: bool = True,
    ) -> ActiveRun:
        """Create a RUNNING run and make it the active run of the current context.

        Without ``parent``, a run started while another is active becomes its child.
        Without ``experiment``, a child goes to its parent's experiment; otherwise the
        experiment of ``sy.set_experiment``, then ``SHIPYARD_EXPERIMENT``, then "Default".
        """
        if name is not None:
            validate_name(name, "run name")
        user_tags = {}
        for key, value in (tags or {}).items():
            validate_key(key, "tag key")
            user_tags[key] = validate_tag_value(param_text(value), key)
        parent_id, parent_experiment = self._parent_of(parent)
        if experiment is not None:
            experiment_id = self._experiment_id_for_run(experiment)
        elif parent_experiment is not None:
            experiment_id = parent_experiment
        else:
            default = state.current_experiment() or self.settings.experiment or DEFAULT_EXPERIMENT
            experiment_id = self._experiment_id_for_run(default)
        context = capture_context() if capture else None
        all_tags = {**(context.tags if context else {}), **user_tags}
        record = self.store.create_run(
            experiment_id, name=name, tags=all_tags, parent_run_id=parent_id, user=current_user()
        )
        if context is not None and context.files:
            try:
                artifacts.upload_bytes(self.store, self.blob_store, record.id, context.files)
            except Exception as exc:  # the run itself is fine without its context files
                message = f"could not store the environment of run {record.id}: {exc}"
                log.warning(message)
                warnings.warn(message, RuntimeWarning, stacklevel=2)
        batcher = MetricBatcher(self.metrics_store, record.id, retry_seconds=self.retry_seconds)
        run = ActiveRun(self, record, batcher)
        state.push(run)
        return run

    def _parent_of(self, parent: ActiveRun | Run | str | None) -> tuple[str | None, str | None]:
        if parent is None:
            active = state.current_run()
            return (active.id, active.experiment_id) if active is not None else (None, None)
        if isinstance(parent, ActiveRun | Run):
            return parent.id, parent.experiment_id
        record = self.get_run(parent)
        return record.id, record.experiment_id

    def get_run(self, run_id: str) -> Run:
        """A run by id or unique id prefix (at least 6 characters)."""
        return self.store.get_run(self.resolve_run_id(run_id))

    def resolve_run_id(self, run_id: str) -> str:
        """The full id of the one run whose id starts with ``run_id``."""
        if not isinstance(run_id, str):
            raise InvalidInputError(f"run id must be a string, got {type(run_id).__name__}")
        run_id = run_id.strip().lower()
        if _RUN_ID_RE.fullmatch(run_id):
            return run_id
        if len(run_id) < MIN_PREFIX_LENGTH or not _PREFIX_RE.fullmatch(run_id):
            raise InvalidInputError(
                f"{run_id!r} is not a run id: give the 32-character id "
                f"or at least {MIN_PREFIX_LENGTH} of its first characters"
            )
        matches = self._run_ids_with_prefix(run_id)
        if not matches:
            raise NotFoundError(f"no run id starts with {run_id!r}")
        if len(matches) > 1:
            shown = ", ".join(sorted(matches)[:5])
            raise InvalidInputError(f"run id prefix {run_id!r} is ambiguous: {shown}")
        return matches[0]

    def _run_ids_with_prefix(self, prefix: str) -> list[str]:
        # Run ids are lowercase hex, so this LIKE pattern has no wildcard to escape.
        found = []
        for run in self.iter_runs(
            filter_string=f"attributes.run_id LIKE '{prefix}%'", view=ViewType.ALL, limit=2
        ):
            found.append(run.id)
        return found

    def iter_runs(
        self,
        experiment_ids: Sequence[str] = (),
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        view: ViewType = ViewType.ACTIVE,
        limit: int | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[Run]:
        """Runs matching the search, fetched page by page (at most ``limit`` of them)."""
        if limit is not None and limit < 1:
            raise InvalidInputError(f"limit must be at least 1, got {limit}")
        token: str | None = None
        remaining = limit
        while True:
            size = page_size if remaining is None else min(remaining, page_size)
            page = self.store.search_runs(
                list(experiment_ids),
                filter_string=filter_string,
                order_by=list(order_by) if order_by else None,
                view=view,
                max_results=size,
                page_token=token,
            )
            for run in page.items:
                yield run
                if remaining is not None:
                    remaining -= 1
                    if remaining == 0:
                        return
            token = page.next_page_token
            if not token or not page.items:
                return

    def get_metric_history(
        self, run_id: str, key: str, max_points: int | None = None
    ) -> list[Metric]:
        return self.store.get_metric_history(self.resolve_run_id(run_id), key, max_points)

    # -- artifacts ----------------------------------------------------------------
    def list_artifacts(self, run_id: str, path: str | None = None) -> list[ArtifactEntry]:
        return artifacts.entries_under(self.store, self.resolve_run_id(run_id), path)

    def read_artifact(self, run_id: str, path: str) -> bytes:
        """The verified bytes of one artifact file."""
        entry = self.store.get_artifact(self.resolve_run_id(run_id), path)
        return artifacts.read_artifact(self.blob_store, entry)

    def download_artifacts(
        self, run_id: str, path: str | None = None, dest: str | Path | None = None
    ) -> Path:
        """Download (and verify) a run's artifacts; returns the local file or folder.

        ``dest`` defaults to a new temporary folder; the artifacts keep their
        relative paths below it.
        """
        target = Path(dest) if dest is not None else Path(tempfile.mkdtemp(prefix="shipyard-"))
        return artifacts.download_artifacts(
            self.store, self.blob_store, self.resolve_run_id(run_id), path, target
        )
