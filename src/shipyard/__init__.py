"""Shipyard: experiment tracking, data versioning, model registry, serving and monitoring.

::

    import shipyard as sy

    with sy.start_run(experiment="mnist") as run:
        run.log_params({"lr": 0.01})
        run.log_metric("acc", 0.98, step=1)

    sy.search_runs("metrics.acc > 0.9", order_by="metrics.acc DESC")

``sy.models``, ``sy.register_model`` and ``sy.evaluate`` import numpy and pandas,
so they load on first use.
"""

import typing as _typing

from shipyard import data
from shipyard._version import __version__
from shipyard.entities import ArtifactEntry, Metric, RunStatus, ViewType
from shipyard.tracking.active_run import ActiveRun
from shipyard.tracking.batching import MetricsNotStoredWarning
from shipyard.tracking.client import Client
from shipyard.tracking.fluent import (
    active_run,
    compare_runs,
    download_artifacts,
    end_run,
    get_metric_history,
    get_run,
    log_artifact,
    log_artifacts,
    log_dict,
    log_metric,
    log_metrics,
    log_model,
    log_param,
    log_params,
    log_text,
    search_runs,
    set_experiment,
    set_tag,
    set_tags,
    start_run,
)
from shipyard.tracking.search import Comparison
from shipyard.tracking.views import Experiment, Run

if _typing.TYPE_CHECKING:
    from shipyard import models, monitoring
    from shipyard.models import evaluate, register_model

__all__ = [
    "ActiveRun",
    "ArtifactEntry",
    "Client",
    "Comparison",
    "Experiment",
    "Metric",
    "MetricsNotStoredWarning",
    "Run",
    "RunStatus",
    "ViewType",
    "__version__",
    "active_run",
    "compare_runs",
    "data",
    "download_artifacts",
    "end_run",
    "evaluate",
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
    "models",
    "monitoring",
    "register_model",
    "search_runs",
    "set_experiment",
    "set_tag",
    "set_tags",
    "start_run",
]

_LAZY = ("evaluate", "models", "monitoring", "register_model")


def __getattr__(name: str) -> _typing.Any:
    if name in _LAZY:
        import importlib

        if name in ("models", "monitoring"):
            return importlib.import_module(f"shipyard.{name}")
        return getattr(importlib.import_module("shipyard.models"), name)
    raise AttributeError(f"module 'shipyard' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
