"""Converting a scikit-learn estimator to ONNX with skl2onnx.

Floats go in as float32, which every onnxruntime operator takes (many take
no float64); classifiers return probabilities as a plain tensor (no ZipMap).
A regressor's ``[N, 1]`` output is flattened back to what ``predict`` gives.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from shipyard.errors import InvalidInputError
from shipyard.models.inputs import Prepared
from shipyard.models.signature import TENSOR_INPUT

__all__ = ["convert"]


def _estimators(model: Any) -> list[Any]:
    from sklearn.base import BaseEstimator

    found = [model]
    for value in model.get_params(deep=True).values():
        if isinstance(value, BaseEstimator):
            found.append(value)
    return found


def _options(model: Any) -> dict[int, dict[str, Any]]:
    from sklearn.base import is_classifier

    return {id(est): {"zipmap": False} for est in _estimators(model) if is_classifier(est)}


def _float32_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype.kind == "f":
            out[column] = out[column].astype(np.float32)
    return out


def convert(model: Any, example: Prepared | None) -> tuple[bytes, bool]:
    """ONNX bytes of ``model`` and whether its first output is to be flattened."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.base import is_regressor

    options = _options(model)
    try:
        if isinstance(example, pd.DataFrame):
            onx = to_onnx(model, X=_float32_frame(example), options=options)
        else:
            if example is not None:
                if example.dtype.kind not in "biuf":
                    raise InvalidInputError(
                        f"skl2onnx converts numeric arrays only, not {example.dtype} ones"
                    )
                shape: list[int | None] = [None, *example.shape[1:]]
            else:
                width = getattr(model, "n_features_in_", None)
                if hasattr(model, "feature_names_in_") or not isinstance(width, int):
                    raise InvalidInputError(
                        "converting this estimator to ONNX needs input_example= (a few rows)"
                    )
                shape = [None, width]
            onx = to_onnx(
                model, initial_types=[(TENSOR_INPUT, FloatTensorType(shape))], options=options
            )
    except InvalidInputError:
        raise
    except Exception as exc:  # skl2onnx raises many kinds for what it cannot convert
        raise InvalidInputError(
            f"skl2onnx cannot convert this {type(model).__name__}: {exc}; log it with the "
            "sklearn flavor instead"
        ) from None
    if example is not None:
        ravel = np.ndim(model.predict(example)) == 1
    else:
        ravel = bool(is_regressor(model))
    return onx.SerializeToString(), ravel
