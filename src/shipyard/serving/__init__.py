"""The model server: one model (and an optional canary) over the Open Inference
Protocol (KServe V2, with Triton's binary tensors) and MLflow-style ``/invocations``,
with adaptive batching, alias following with hot swaps, and Prometheus metrics.

::

    from shipyard.serving import ServeConfig, create_serving_app

    app = create_serving_app(ServeConfig("models:/digits@production"))
    # uvicorn.run(app, host="127.0.0.1", port=8080)

Modules are imported on use: ``import shipyard.serving`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipyard.serving.app import app_from_env, create_serving_app
    from shipyard.serving.config import ServeConfig
    from shipyard.serving.source import ModelSource, RegistrySource, Resolved

__all__ = [
    "ModelSource",
    "RegistrySource",
    "Resolved",
    "ServeConfig",
    "app_from_env",
    "create_serving_app",
]

_HOMES = {
    "ModelSource": "shipyard.serving.source",
    "RegistrySource": "shipyard.serving.source",
    "Resolved": "shipyard.serving.source",
    "ServeConfig": "shipyard.serving.config",
    "app_from_env": "shipyard.serving.app",
    "create_serving_app": "shipyard.serving.app",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'shipyard.serving' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(home), name)
