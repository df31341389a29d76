"""The run a training script writes to: ``with sy.start_run() as run: run.log_metric(...)``.

Params and tags are sent at once, so a conflicting param raises at the call.
Metrics are validated, stamped and queued; a background thread sends them
(see :mod:`shipyard.tracking.batching`).

Steps: ``log_metric(key, value)`` without a step uses the key's next step in
this run, starting at 0 (0, 1, 2, ...); an explicit step moves that key's
counter to ``step + 1``.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from shipyard.entities import (
    ArtifactEntry,
    DatasetVersion,
    Param,
    Run,
    RunStatus,
    Tag,
    now_ms,
)
from shipyard.errors import ConflictError, InvalidInputError, ServiceUnavailableError
from shipyard.tracking import artifacts, state
from shipyard.tracking.batching import MetricBatcher
from shipyard.validation import (
    validate_artifact_path,
    validate_key,
    validate_metric_value,
    validate_param_value,
    validate_step,
    validate_tag_value,
    validate_timestamp,
)

if TYPE_CHECKING:
    from shipyard.models.package import ModelInfo
    from shipyard.models.signature import Signature
    from shipyard.tracking.client import Client

__all__ = ["ActiveRun", "metric_value", "param_text"]

log = logging.getLogger(__name__)
_time_ns = time.time_ns


def param_text(value: object) -> str:
    """Params are text: numbers, booleans and None are stored as ``str(value)``."""
    return value if isinstance(value, str) else str(value)


def metric_value(value: object, key: str) -> float:
    """A float from any real number (numpy scalars included); NaN and +-inf are kept."""
    return value if type(value) is float else validate_metric_value(value, key)


def status_for(exc: BaseException | None) -> RunStatus:
    if exc is None:
        return RunStatus.FINISHED
    if isinstance(exc, KeyboardInterrupt):
        return RunStatus.KILLED
    if isinstance(exc, SystemExit) and exc.code in (None, 0):
        return RunStatus.FINISHED
    return RunStatus.FAILED


class ActiveRun:
    """A started run; ends as FINISHED, FAILED (an exception) or KILLED (Ctrl-C)."""

    def __init__(self, client: Client, record: Run, batcher: MetricBatcher) -> None:
        self._client = client
        self._record = record
        self._batcher = batcher
        self._steps: dict[str, Iterator[int]] = {}
        self._metric_keys: set[str] = set()
        self._lock = threading.Lock()
        self._ended = False
        self.status = RunStatus.RUNNING

    # -- identity ------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._record.id

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def experiment_id(self) -> str:
        return self._record.experiment_id

    @property
    def parent_run_id(self) -> str | None:
        return self._record.parent_run_id

    @property
    def ended(self) -> bool:
        return self._ended

    @property
    def info(self) -> Run:
        """The run as stored now (metrics queued but not yet sent are flushed first)."""
        self.flush()
        return self._client.store.get_run(self.id)

    def __repr__(self) -> str:
        return f"<ActiveRun {self.name} id={self.id} status={self.status}>"

    # -- params and tags (synchronous) ----------------------------------------
    def log_param(self, key: str, value: object) -> None:
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, object]) -> None:
        self._check_open()
        batch = []
        for key, value in params.items():
            validate_key(key, "param key")
            batch.append(Param(key, validate_param_value(param_text(value), key)))
        if batch:
            self._client.store.log_batch(self.id, params=batch)

    def set_tag(self, key: str, value: object) -> None:
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, object]) -> None:
        self._check_open()
        batch = []
        for key, value in tags.items():
            validate_key(key, "tag key")
            batch.append(Tag(key, validate_tag_value(param_text(value), key)))
        if batch:
            self._client.store.log_batch(self.id, tags=batch)

    # -- metrics (queued) -----------------------------------------------------
    def log_metric(
        self, key: str, value: float, step: int | None = None, timestamp: int | None = None
    ) -> None:
        """Queue one point; returns at once (see the module docstring for steps)."""
        if self._ended:
            self._check_open()
        if key not in self._metric_keys:
            validate_key(key, "metric key")
            self._metric_keys.add(key)
        number = value if type(value) is float else metric_value(value, key)
        if step is None:
            counter = self._steps.get(key)
            if counter is None:
                counter = self._steps.setdefault(key, itertools.count())
            step = next(counter)  # atomic under the GIL: threads never share a step
        else:
            validate_step(step)
            self._steps[key] = itertools.count(step + 1)
        if timestamp is None:
            timestamp = _time_ns() // 1_000_000
        else:
            validate_timestamp(timestamp)
        self._batcher.add((key, number, step, timestamp))

    def log_metrics(
        self, metrics: Mapping[str, float], step: int | None = None, timestamp: int | None = None
    ) -> None:
        stamp = now_ms() if timestamp is None else timestamp
        for key, value in metrics.items():
            self.log_metric(key, value, step=step, timestamp=stamp)

    def flush(self) -> None:
        """Wait until every metric logged so far is stored (or counted as lost)."""
        self._batcher.flush()

    # -- artifacts --------------------------------------------------------------
    def log_artifact(self, path: str | Path, name: str | None = None) -> ArtifactEntry:
        """Store one file; ``name`` is its artifact path (default: the file's name)."""
        self._check_open()
        local = Path(path)
        target = validate_artifact_path(name if name is not None else local.name)
        client = self._client
        files = [(local, target)]
        (entry,) = artifacts.upload_files(client.store, client.blob_store, self.id, files)
        return entry

    def log_artifacts(self, folder: str | Path, prefix: str | None = None) -> list[ArtifactEntry]:
        """Store every file below ``folder``, at ``prefix/<relative path>``."""
        self._check_open()
        if prefix is not None:
            validate_artifact_path(prefix.strip("/"), "artifact prefix")
        files = artifacts.files_of_folder(Path(folder), prefix)
        client = self._client
        return artifacts.upload_files(client.store, client.blob_store, self.id, files)

    def log_text(self, text: str, name: str) -> ArtifactEntry:
        """Store a string as a UTF-8 file at artifact path ``name``."""
        return self._log_bytes(text.encode(), name)

    def log_dict(self, data: Mapping[str, Any], name: str) -> ArtifactEntry:
        """Store a mapping as JSON at artifact path ``name``."""
        text = json.dumps(data, indent=2, sort_keys=True, default=str)
        return self._log_bytes(text.encode(), name)

    def _log_bytes(self, data: bytes, name: str) -> ArtifactEntry:
        self._check_open()
        client = self._client
        (entry,) = artifacts.upload_bytes(client.store, client.blob_store, self.id, {name: data})
        return entry

    def log_model(
        self,
        model: Any,
        name: str = "model",
        input_example: Any = None,
        signature: Signature | None = None,
        registered_model_name: str | None = None,
        flavor: str | None = None,
    ) -> ModelInfo:
        """Save a model package under ``name/`` (``runs:/<id>/<name>``), registered as the
        next version of ``registered_model_name`` when given (see :mod:`shipyard.models`)."""
        self._check_open()
        from shipyard.models.package import log_model

        return log_model(
            self._client,
            self.id,
            model,
            name,
            input_example,
            signature,
            registered_model_name,
            flavor,
        )

    # -- lineage ----------------------------------------------------------------
    def use_dataset(self, dataset: str | DatasetVersion) -> DatasetVersion:
        """Record a dataset version as an input of this run and return it.

        ``dataset`` is a version or a name for one: ``datasets:/mnist/3``,
        ``datasets:/mnist@golden``, ``mnist@latest`` (the number it resolves to now
        is recorded).
        """
        self._check_open()
        from shipyard.data.api import resolve_in

        store = self._client.store
        version = resolve_in(store, dataset)
        store.log_run_inputs(self.id, [(version.dataset, version.version)])
        return version

    # -- ending -----------------------------------------------------------------
    def end(self, status: RunStatus | str = RunStatus.FINISHED) -> None:
        """Flush metrics, then record the final status and end time. Ending twice is a no-op."""
        final = RunStatus(status)
        if final is RunStatus.RUNNING:
            raise InvalidInputError("a run cannot end with status RUNNING")
        with self._lock:
            if self._ended:
                return
            self._ended = True
        state.remove(self)
        try:
            self._batcher.close()
        finally:
            # After an outage that outlasted the batcher's budget, one try, not another wait.
            store = self._client.store if self._batcher.healthy else self._batcher.store
            store.update_run(self.id, status=final, end_time=now_ms())
            self.status = final

    def end_quietly(self, status: RunStatus) -> None:
        """End without raising (at interpreter exit, or while an exception propagates)."""
        try:
            self.end(status)
        except Exception as exc:
            message = f"could not end run {self.id} as {status}: {exc}"
            log.warning(message)
            warnings.warn(message, RuntimeWarning, stacklevel=2)

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            try:
                self.end(RunStatus.FINISHED)
            except ServiceUnavailableError as error:  # the work is done: warn, do not crash
                message = f"could not mark run {self.id} as FINISHED: {error}"
                log.warning(message)
                warnings.warn(message, RuntimeWarning, stacklevel=2)
        else:
            self.end_quietly(status_for(exc))

    def _check_open(self) -> None:
        if self._ended:
            raise ConflictError(f"run {self.id} has ended ({self.status}); start a new run")
