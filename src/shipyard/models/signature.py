"""A model's signature: the names, dtypes and shapes of what it takes and gives.

Two kinds of input:

- a *tensor* signature has one spec, the whole input array (``shape`` starts
  with ``-1``, the row dimension): digits pixels as ``float64 [-1, 64]``;
- a *columns* signature has one spec per column of a table, each of shape
  ``[-1]``: ``age int64``, ``city str``.

dtypes are numpy names (``float32``, ``int64``, ``bool``, ``datetime64[ns]``),
``str`` for text, or ``object`` for a column whose values are checked by the
model only.

Outputs are named ``predictions`` (what ``predict`` returns) and, for a model
with ``predict_proba``, ``probabilities``. Without a given signature, both are
inferred from an input example (:func:`infer_signature`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "PREDICTIONS",
    "PROBABILITIES",
    "TENSOR_INPUT",
    "Signature",
    "TensorSpec",
    "dtype_name",
    "infer_signature",
    "output_spec",
    "signature_of_estimator",
]

SignatureKind = Literal["tensor", "columns"]

TENSOR_INPUT = "input"
PREDICTIONS = "predictions"
PROBABILITIES = "probabilities"


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """One named input or output: dtype and shape, ``-1`` for a dimension of any size."""

    name: str
    dtype: str
    shape: tuple[int, ...] = (-1,)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.shape)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TensorSpec:
        return cls(str(data["name"]), str(data["dtype"]), tuple(int(d) for d in data["shape"]))

    def __str__(self) -> str:
        dims = ", ".join(str(d) for d in self.shape)
        return f"{self.name} {self.dtype} [{dims}]"


@dataclass(frozen=True, slots=True)
class Signature:
    """Inputs and outputs of a model; ``kind`` says how ``inputs`` read (module docstring)."""

    kind: SignatureKind
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...] = field(default_factory=tuple)

    @property
    def input_names(self) -> list[str]:
        return [spec.name for spec in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [spec.name for spec in self.outputs]

    def output(self, name: str) -> TensorSpec | None:
        return next((spec for spec in self.outputs if spec.name == name), None)

    def with_outputs(self, outputs: tuple[TensorSpec, ...]) -> Signature:
        return Signature(self.kind, self.inputs, outputs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "inputs": [spec.to_dict() for spec in self.inputs],
            "outputs": [spec.to_dict() for spec in self.outputs],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signature:
        kind = data["kind"]
        if kind not in ("tensor", "columns"):
            raise ValueError(f"unknown signature kind {kind!r}")
        return cls(
            kind,
            tuple(TensorSpec.from_dict(s) for s in data["inputs"]),
            tuple(TensorSpec.from_dict(s) for s in data.get("outputs", [])),
        )

    def __str__(self) -> str:
        inputs = ", ".join(str(spec) for spec in self.inputs)
        return f"{self.kind}({inputs})"


def dtype_name(dtype: Any, values: Any = None) -> str:
    """The signature name of a numpy or pandas dtype; ``values`` settle an object column."""
    import numpy as np
    import pandas as pd

    if isinstance(dtype, pd.CategoricalDtype):
        return dtype_name(dtype.categories.dtype, dtype.categories)
    if isinstance(dtype, pd.StringDtype):
        return "str"
    if isinstance(dtype, pd.api.extensions.ExtensionDtype):
        numpy_dtype = getattr(dtype, "numpy_dtype", None)  # nullable Int64, Float64, boolean
        if numpy_dtype is not None and np.dtype(numpy_dtype).kind != "O":
            return str(np.dtype(numpy_dtype).name)
        return _object_dtype_name(values)
    plain = np.dtype(dtype)
    if plain.kind in "US":
        return "str"
    if plain.kind == "O":
        return _object_dtype_name(values)
    return str(plain.name)


def _object_dtype_name(values: Any) -> str:
    if values is None:
        return "object"
    present = [v for v in values if v is not None and v == v]  # NaN != NaN
    if present and all(isinstance(v, str) for v in present):
        return "str"
    return "object"


def _frame_specs(frame: pd.DataFrame) -> tuple[TensorSpec, ...]:
    specs = []
    for column in frame.columns:
        if not isinstance(column, str):
            raise ValueError(f"column names must be strings, got {column!r}")
        series = frame[column]
        specs.append(TensorSpec(column, dtype_name(series.dtype, series.array), (-1,)))
    return tuple(specs)


def input_signature_of(example: np.ndarray[Any, Any] | pd.DataFrame) -> Signature:
    """The input half of a signature, from an example in prepared form (array or frame)."""
    import numpy as np

    if isinstance(example, np.ndarray):
        spec = TensorSpec(TENSOR_INPUT, dtype_name(example.dtype, example.ravel()[:100]))
        return Signature("tensor", (TensorSpec(spec.name, spec.dtype, (-1, *example.shape[1:])),))
    return Signature("columns", _frame_specs(example))


def output_spec(name: str, values: Any) -> TensorSpec:
    """A ``[-1, ...]`` spec for what a model returned on the example."""
    import numpy as np

    array = np.asarray(values)
    if array.ndim == 0:
        raise ValueError(f"the model's {name} are a scalar, not one value per row")
    return TensorSpec(name, dtype_name(array.dtype, array.ravel()[:100]), (-1, *array.shape[1:]))


def signature_of_estimator(model: Any) -> Signature | None:
    """``float64 [-1, n]`` for a scikit-learn-style model fitted on an array (it knows
    ``n_features_in_``); None when fitted on a table, whose column dtypes it does not keep."""
    if hasattr(model, "feature_names_in_"):
        return None
    width = getattr(model, "n_features_in_", None)
    if not isinstance(width, int):
        return None
    return Signature("tensor", (TensorSpec(TENSOR_INPUT, "float64", (-1, width)),))


def infer_signature(
    example: np.ndarray[Any, Any] | pd.DataFrame,
    predictions: Any = None,
    probabilities: Any = None,
) -> Signature:
    """A signature from an input example in prepared form and, when given, what the model
    returned for it."""
    signature = input_signature_of(example)
    outputs = []
    if predictions is not None:
        outputs.append(output_spec(PREDICTIONS, predictions))
    if probabilities is not None:
        outputs.append(output_spec(PROBABILITIES, probabilities))
    return signature.with_outputs(tuple(outputs))
