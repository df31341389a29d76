"""ONNX models run by onnxruntime; scikit-learn estimators convert with skl2onnx.

The input signature is read from the graph: one input makes a tensor
signature; several inputs of shape ``[N, 1]`` (what skl2onnx makes of a
DataFrame) make a columns signature, fed one column each. ``predictions`` is
the graph's first output; ``probabilities`` the output whose name says
``prob`` (skl2onnx's ``probabilities``; the ZipMap that would turn them into
dicts is switched off on conversion).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shipyard.errors import InvalidInputError
from shipyard.models.flavors.base import Saved
from shipyard.models.inputs import Prepared
from shipyard.models.signature import Signature, TensorSpec

__all__ = ["FLAVOR", "MODEL_FILE", "OnnxFlavor", "onnx_dtype"]

MODEL_FILE = "model.onnx"
PACKAGES = ["onnxruntime", "onnx"]
_DTYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(float16)": "float16",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(int16)": "int16",
    "tensor(int8)": "int8",
    "tensor(uint64)": "uint64",
    "tensor(uint32)": "uint32",
    "tensor(uint16)": "uint16",
    "tensor(uint8)": "uint8",
    "tensor(bool)": "bool",
    "tensor(string)": "str",
}


def onnx_dtype(onnx_type: str) -> str:
    """The signature dtype of an onnxruntime type string (``tensor(float)`` -> ``float32``)."""
    dtype = _DTYPES.get(onnx_type)
    if dtype is None:
        raise InvalidInputError(f"ONNX input type {onnx_type} is not supported")
    return dtype


def _session(source: str | bytes) -> Any:
    import onnxruntime

    try:
        return onnxruntime.InferenceSession(source, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for a bad graph
        raise InvalidInputError(f"onnxruntime cannot load this ONNX model: {exc}") from None


def _dims(shape: list[Any]) -> tuple[int, ...]:
    return tuple(d if isinstance(d, int) and d >= 0 else -1 for d in shape)


def _graph_signature(session: Any) -> Signature:
    inputs = session.get_inputs()
    if len(inputs) == 1:
        arg = inputs[0]
        shape = _dims(arg.shape)
        return Signature("tensor", (TensorSpec(arg.name, onnx_dtype(arg.type), shape),))
    specs = []
    for arg in inputs:
        if len(arg.shape) != 2 or arg.shape[1] != 1:
            raise InvalidInputError(
                f"ONNX input {arg.name!r} has shape {arg.shape}; a model with several inputs "
                "is taken as one column per input, each of shape [N, 1]"
            )
        specs.append(TensorSpec(arg.name, onnx_dtype(arg.type), (-1,)))
    return Signature("columns", tuple(specs))


def _outputs(session: Any) -> dict[str, Any]:
    outputs = session.get_outputs()
    if not outputs:
        raise InvalidInputError("the ONNX model has no outputs")
    proba = next(
        (
            o.name
            for o in outputs[1:]
            if "prob" in o.name.lower() and o.type in ("tensor(float)", "tensor(double)")
        ),
        None,
    )
    return {"label_output": outputs[0].name, "proba_output": proba}


@dataclass(frozen=True, slots=True)
class _Loaded:
    session: Any
    signature: Signature
    label_output: str
    proba_output: str | None
    ravel: bool

    @property
    def raw(self) -> Any:
        return self.session

    @property
    def has_predict_proba(self) -> bool:
        return self.proba_output is not None

    def _feed(self, prepared: Prepared) -> dict[str, Any]:
        if isinstance(prepared, pd.DataFrame):
            feed = {}
            for spec in self.signature.inputs:
                values = prepared[spec.name].to_numpy()
                dtype = object if spec.dtype == "str" else spec.dtype
                feed[spec.name] = np.asarray(values, dtype=dtype).reshape(-1, 1)
            return feed
        return {self.signature.inputs[0].name: prepared}

    def predict(self, prepared: Prepared) -> Any:
        (result,) = self.session.run([self.label_output], self._feed(prepared))
        if self.ravel and result.ndim == 2 and result.shape[1] == 1:
            return result.ravel()
        return result

    def predict_proba(self, prepared: Prepared) -> Any:
        (result,) = self.session.run([self.proba_output], self._feed(prepared))
        return result


class OnnxFlavor:
    name = "onnx"
    needs_trust = False

    def save(self, model: Any, folder: Path, example: Prepared | None) -> Saved:
        from shipyard.models.flavors import is_sklearn_estimator

        options: dict[str, Any] = {}
        packages = list(PACKAGES)
        if isinstance(model, bytes | bytearray):
            data = bytes(model)
        elif is_sklearn_estimator(model):
            from shipyard.models.flavors.skl2onnx_convert import convert

            data, ravel = convert(model, example)
            options["converted_from"] = "sklearn"
            options["ravel"] = ravel
            packages.append("skl2onnx")
        elif hasattr(model, "SerializeToString"):
            data = model.SerializeToString()
        else:
            raise InvalidInputError(
                f"the onnx flavor takes an onnx.ModelProto, ONNX bytes or a scikit-learn "
                f"estimator to convert, not a {type(model).__name__}"
            )
        session = _session(data)
        (folder / MODEL_FILE).write_bytes(data)
        options.update(_outputs(session))
        return Saved(
            files=[MODEL_FILE],
            options=options,
            packages=packages,
            signature=_graph_signature(session),
        )

    def load(self, files: Mapping[str, Path], options: Mapping[str, Any]) -> _Loaded:
        session = _session(str(files[MODEL_FILE]))
        outputs = _outputs(session)
        return _Loaded(
            session,
            _graph_signature(session),
            str(options.get("label_output") or outputs["label_output"]),
            options.get("proba_output", outputs["proba_output"]),
            bool(options.get("ravel", False)),
        )


FLAVOR = OnnxFlavor()
