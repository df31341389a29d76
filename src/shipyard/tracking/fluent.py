"""Module-level functions acting on the active run: ``sy.log_metric("acc", 0.9)``.

They use one default :class:`~shipyard.tracking.client.Client`, created on
first use from the environment (``SHIPYARD_URI``) and created again when the
environment points somewhere else.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.config import resolve_settings
from shipyard.entities import ArtifactEntry, Metric, RunStatus, ViewType
from shipyard.errors import ConflictError
from shipyard.tracking import search, state
from shipyard.tracking.active_run import ActiveRun
from shipyard.tracking.client import Client
from shipyard.tracking.views import Experiment, Run

if TYPE_CHECKING:
    import pandas as pd

    from shipyard.models.package import ModelInfo
    from shipyard.models.signature import Signature

__all__ = [
    "active_run",
    "compare_runs",
    "default_client",
    "download_artifacts",
    "end_run",
    "get_metric_history",
    "get_run",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_text",
    "search_runs",
    "set_experiment",
    "set_tag",
    "set_tags",
    "start_run",
]

_lock = threading.Lock()
_client: Client | None = None


def default_client() -> Client:
    """The process's client for the store the environment names now."""
    global _client
    settings = resolve_settings()
    with _lock:
        if _client is None or _client.settings != settings:
            _client = Client()
        return _client


def set_experiment(name: str) -> Experiment:
    """Make ``name`` the experiment of new runs, creating it if missing."""
    client = default_client()
    record = client.get_or_create_experiment(name)
    state.set_current_experiment(record.name)
    return Experiment._of(record, client)


def start_run(
    name: str | None = None,
    experiment: str | None = None,
    tags: Mapping[str, object] | None = None,
    parent: ActiveRun | Run | str | None = None,
    *,
    capture: bool = True,
) -> ActiveRun:
    """Start a run; use it as a context manager so it ends as FINISHED, FAILED or KILLED.

    A run started while another is active in this thread (or task) becomes its
    child unless ``parent`` names another run. ``capture=False`` skips recording
    the code, environment and machine.
    """
    parent_arg: Any = parent.record if isinstance(parent, Run) else parent
    return default_client().start_run(name, experiment, tags, parent_arg, capture=capture)


def active_run() -> ActiveRun | None:
    """The innermost run started in this context and not yet ended."""
    return state.current_run()


def _active() -> ActiveRun:
    run = state.current_run()
    if run is None:
        raise ConflictError("no active run: start one with `with sy.start_run():`")
    return run


def end_run(status: RunStatus | str = RunStatus.FINISHED) -> None:
    """End the active run (nothing happens when none is active)."""
    run = state.current_run()
    if run is not None:
        run.end(status)


def log_param(key: str, value: object) -> None:
    _active().log_param(key, value)


def log_params(params: Mapping[str, object]) -> None:
    _active().log_params(params)


def log_metric(key: str, value: float, step: int | None = None) -> None:
    _active().log_metric(key, value, step)


def log_metrics(metrics: Mapping[str, float], step: int | None = None) -> None:
    _active().log_metrics(metrics, step)


def set_tag(key: str, value: object) -> None:
    _active().set_tag(key, value)


def set_tags(tags: Mapping[str, object]) -> None:
    _active().set_tags(tags)


def log_artifact(path: str | Path, name: str | None = None) -> ArtifactEntry:
    return _active().log_artifact(path, name)


def log_artifacts(folder: str | Path, prefix: str | None = None) -> list[ArtifactEntry]:
    return _active().log_artifacts(folder, prefix)


def log_text(text: str, name: str) -> ArtifactEntry:
    return _active().log_text(text, name)


def log_dict(data: Mapping[str, Any], name: str) -> ArtifactEntry:
    return _active().log_dict(data, name)


def log_model(
    model: Any,
    name: str = "model",
    input_example: Any = None,
    signature: Signature | None = None,
    registered_model_name: str | None = None,
    flavor: str | None = None,
) -> ModelInfo:
    """Log a model package to the active run (see :meth:`ActiveRun.log_model`)."""
    return _active().log_model(model, name, input_example, signature, registered_model_name, flavor)


def get_run(run_id: str) -> Run:
    """A stored run by id or unique id prefix (at least 6 characters)."""
    return Run(run_id, client=default_client())


def search_runs(
    filter: str | None = None,
    order_by: Sequence[str] | str | None = None,
    experiments: Sequence[str] | str | None = None,
    limit: int = 1000,
    view: ViewType | str = ViewType.ACTIVE,
) -> pd.DataFrame:
    """Runs as a DataFrame; ``experiments`` are names or ids (None: every experiment).

    ``filter`` is the search language (``metrics.acc > 0.9 and params.model = 'svm'``);
    ``order_by`` items look like ``metrics.acc DESC``; default order: newest first.
    """
    return search.search_runs(default_client(), filter, order_by, experiments, limit, view)


def get_metric_history(run_id: str, key: str, max_points: int | None = None) -> list[Metric]:
    return default_client().get_metric_history(run_id, key, max_points)


def compare_runs(run_ids: Sequence[str]) -> search.Comparison:
    return search.compare_runs(default_client(), run_ids)


def download_artifacts(
    run_id: str, path: str | None = None, dest: str | Path | None = None
) -> Path:
    """Download a run's artifacts (all, a folder or a file), verified; returns the local path."""
    return default_client().download_artifacts(run_id, path, dest)
