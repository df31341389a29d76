"""Model packages: log a model with its signature and environment, load it anywhere.

::

    import shipyard as sy

    with sy.start_run(experiment="digits") as run:
        info = run.log_model(clf, input_example=x_train[:5], registered_model_name="digits")

    model = sy.models.load("models:/digits@production")
    model.predict(x_test)

A package is a set of run artifacts under ``<name>/``: the flavor's files, the
input example and the manifest ``shipyard-model.json`` (flavor, signature,
environment, datasets, every file's digest). Flavors: ``sklearn`` (skops, no
pickle), ``onnx``, ``torch`` and ``python`` (cloudpickle; loads only with trust).
"""

from __future__ import annotations

from typing import Any

from shipyard.models.environment import (
    EnvironmentDifference,
    ModelEnvironmentWarning,
    compare,
    current_environment,
)
from shipyard.models.loaded import LoadedModel
from shipyard.models.loading import load
from shipyard.models.manifest import MANIFEST_FILE, Manifest
from shipyard.models.package import ModelInfo
from shipyard.models.predictor import Predictor
from shipyard.models.registry import register_model
from shipyard.models.resolve import ResolvedModel, resolve
from shipyard.models.signature import Signature, TensorSpec, infer_signature

__all__ = [
    "MANIFEST_FILE",
    "EnvironmentDifference",
    "LoadedModel",
    "Manifest",
    "ModelEnvironmentWarning",
    "ModelInfo",
    "Predictor",
    "ResolvedModel",
    "Signature",
    "TensorSpec",
    "compare",
    "current_environment",
    "evaluate",
    "infer_signature",
    "load",
    "log_model",
    "promote",
    "register_model",
    "resolve",
]


def log_model(
    model: Any,
    name: str = "model",
    input_example: Any = None,
    signature: Signature | None = None,
    registered_model_name: str | None = None,
    flavor: str | None = None,
) -> ModelInfo:
    """Log ``model`` to the active run (see :meth:`shipyard.ActiveRun.log_model`)."""
    from shipyard.tracking.fluent import log_model as fluent_log_model

    return fluent_log_model(
        model,
        name=name,
        input_example=input_example,
        signature=signature,
        registered_model_name=registered_model_name,
        flavor=flavor,
    )


def evaluate(*args: Any, **kwargs: Any) -> Any:
    """Score a model on a table: ``shipyard.evaluation.evaluate.evaluate``."""
    from shipyard.evaluation.evaluate import evaluate as _evaluate

    return _evaluate(*args, **kwargs)


def promote(*args: Any, **kwargs: Any) -> Any:
    """Move an alias to a candidate that beats it: ``shipyard.evaluation.gate.promote``."""
    from shipyard.evaluation.gate import promote as _promote

    return _promote(*args, **kwargs)
