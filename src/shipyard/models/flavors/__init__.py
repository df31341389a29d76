"""The model flavors: how each kind of model is saved and loaded.

=========  ====================  ===========================================
flavor     file(s)               loading
=========  ====================  ===========================================
sklearn    model.skops           skops, only scikit-learn / numpy / scipy types
onnx       model.onnx            onnxruntime (sklearn converts with skl2onnx)
torch      model.pt, state.pt    TorchScript (torch is an optional extra)
python     model.pkl             cloudpickle: runs code, so only with trust
=========  ====================  ===========================================

Each flavor's module imports its libraries when used, never at import time.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from shipyard.errors import InvalidInputError
from shipyard.models.flavors.base import Flavor, Native, Saved

__all__ = ["FLAVORS", "Flavor", "Native", "Saved", "detect_flavor", "get_flavor", "normalize"]

FLAVORS = ("sklearn", "onnx", "torch", "python")
_ALIASES = {"pyfunc": "python", "scikit-learn": "sklearn", "pytorch": "torch"}


def normalize(name: str) -> str:
    """The canonical flavor name; ``InvalidInputError`` lists the known ones."""
    canonical = _ALIASES.get(name, name)
    if canonical not in FLAVORS:
        raise InvalidInputError(f"unknown model flavor {name!r}: use one of {', '.join(FLAVORS)}")
    return canonical


def get_flavor(name: str) -> Flavor:
    module = importlib.import_module(f"shipyard.models.flavors.{normalize(name)}_flavor")
    flavor: Flavor = module.FLAVOR
    return flavor


def _is_instance(model: Any, module: str, qualname: str) -> bool:
    # Only a library already imported can have made this object: never import it to check.
    if module not in sys.modules:
        return False
    cls: Any = sys.modules[module]
    for part in qualname.split("."):
        cls = getattr(cls, part, None)
        if cls is None:
            return False
    return isinstance(model, cls)


def is_sklearn_estimator(model: Any) -> bool:
    if "sklearn" not in sys.modules:
        return False
    from sklearn.base import BaseEstimator

    return isinstance(model, BaseEstimator)


def detect_flavor(model: Any) -> str:
    """The flavor a model saves with when none is asked for."""
    if isinstance(model, bytes | bytearray) or _is_instance(model, "onnx", "ModelProto"):
        return "onnx"
    if _is_instance(model, "torch", "nn.Module"):
        return "torch"
    if is_sklearn_estimator(model):
        return "sklearn"
    if callable(getattr(model, "predict", None)):
        return "python"
    raise InvalidInputError(
        f"cannot log a {type(model).__name__} as a model: give a scikit-learn estimator, an "
        "ONNX model, a torch.nn.Module, or any object with a predict method"
    )
