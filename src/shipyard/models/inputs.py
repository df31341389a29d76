"""Check model input against a signature and turn it into the model's prepared form.

Accepted input: numpy arrays (and nested lists), pandas, polars and pyarrow
tables, lists of row dicts and dicts of columns. A *tensor* signature prepares
an ``np.ndarray`` of the signature's dtype; a *columns* signature a
``pd.DataFrame`` holding exactly the signature's columns, in its order, with a
fresh index, so prepared inputs of one model concatenate along axis 0.

Casts: what numpy calls safe (``int32 -> int64``, ``int -> float64``, ``bool
-> int``), any integer or float to a float (``float64 -> float32``: JSON
carries no float width), and a narrower integer when every value fits. Float
to integer, number to text, text to number are refused with a
:class:`~shipyard.errors.SignatureError` naming the column or dimension.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from shipyard.errors import SignatureError
from shipyard.models.signature import Signature, TensorSpec, dtype_name

__all__ = ["Prepared", "as_frame", "as_prepared", "cast_values", "prepare_input"]

Prepared = np.ndarray[Any, Any] | pd.DataFrame
_SHOWN_COLUMNS = 10


def _shown(names: list[str]) -> str:
    if len(names) <= _SHOWN_COLUMNS:
        return ", ".join(names)
    return ", ".join(names[:_SHOWN_COLUMNS]) + f", ... ({len(names)} in all)"


def _is_frame_like(data: Any) -> bool:
    module = type(data).__module__.split(".")[0]
    return isinstance(data, pd.DataFrame) or (
        module in ("polars", "pyarrow") and hasattr(data, "to_pandas")
    )


def as_frame(data: Any) -> pd.DataFrame | None:
    """A pandas DataFrame for table-like input (pandas, polars, pyarrow, dict of columns),
    None for anything else. A list of dicts is not converted here: see ``_rows_frame``."""
    if isinstance(data, pd.DataFrame):
        return data
    if _is_frame_like(data):
        frame = data.to_pandas()
        if isinstance(frame, pd.DataFrame):
            return frame
    return None


def as_prepared(example: Any) -> Prepared:
    """The prepared form of an input example, with no signature to check it against:
    tables (any kind, lists of dicts, dicts of columns) become DataFrames, the rest arrays."""
    frame = as_frame(example)
    if frame is not None:
        return frame.reset_index(drop=True)
    if isinstance(example, Mapping):
        return _columns_frame(example, None)
    if isinstance(example, list) and example and all(isinstance(r, Mapping) for r in example):
        return _rows_frame(example, None)
    array = _array(example, "input example")
    if array.ndim == 0:
        raise SignatureError("the input example is a single value; give at least one row")
    return array


def _array(data: Any, what: str) -> np.ndarray[Any, Any]:
    try:
        return np.asarray(data)
    except ValueError as exc:  # ragged nested lists
        raise SignatureError(f"{what} is not a rectangular array: {exc}") from None


def prepare_input(signature: Signature, data: Any) -> Prepared:
    """Validate ``data`` against the signature and return the prepared form."""
    if signature.kind == "tensor":
        return _prepare_tensor(signature.inputs[0], data)
    return _prepare_columns(signature.inputs, data)


# -- tensors --------------------------------------------------------------------


def _prepare_tensor(spec: TensorSpec, data: Any) -> np.ndarray[Any, Any]:
    expected = f"{spec.dtype} {list(spec.shape)}"
    if isinstance(data, Mapping):
        if len(data) != 1:
            names = ", ".join(repr(k) for k in list(data)[:5])
            raise SignatureError(
                f"the model takes one tensor ({spec.name!r}, {expected}); got a mapping of "
                f"{len(data)} entries ({names})"
            )
        ((key, data),) = data.items()
        if key != spec.name:
            raise SignatureError(f"the model's input is named {spec.name!r}, not {key!r}")
    frame = as_frame(data)
    if frame is not None:
        data = _frame_values(frame, spec)
    elif isinstance(data, list) and data and isinstance(data[0], Mapping):
        raise SignatureError(
            f"the model takes a tensor ({expected}), not rows of named columns; "
            "give an array or a list of lists"
        )
    array = _array(data, "input")
    if array.ndim != len(spec.shape):
        raise SignatureError(
            f"input has {array.ndim} dimension(s) (shape {tuple(array.shape)}); the model "
            f"expects {len(spec.shape)}: {expected}"
            + ("; one row is x.reshape(1, -1)" if array.ndim == len(spec.shape) - 1 else "")
        )
    for axis, (want, got) in enumerate(zip(spec.shape, array.shape, strict=True)):
        if want >= 0 and want != got:
            raise SignatureError(
                f"input dimension {axis} has size {got}; the model expects {want} ({expected})"
            )
    if array.shape[0] == 0:
        raise SignatureError("input has no rows")
    return np.ascontiguousarray(cast_values(array, spec.dtype, "input"))


def _frame_values(frame: pd.DataFrame, spec: TensorSpec) -> np.ndarray[Any, Any]:
    for column in frame.columns:
        kind = dtype_name(frame[column].dtype, frame[column].array)
        if kind in ("str", "object") and spec.dtype not in ("str", "object"):
            raise SignatureError(
                f"column {column!r} holds {kind} values; the model takes one {spec.dtype} tensor"
            )
    return frame.to_numpy()


# -- columns --------------------------------------------------------------------


def _prepare_columns(specs: tuple[TensorSpec, ...], data: Any) -> pd.DataFrame:
    names = [spec.name for spec in specs]
    frame = as_frame(data)
    if frame is None:
        if isinstance(data, Mapping):
            frame = _columns_frame(data, names)
        elif isinstance(data, list) and data and isinstance(data[0], Mapping):
            frame = _rows_frame(data, names)
        else:
            array = _array(data, "input")
            if array.ndim != 2:
                raise SignatureError(
                    f"the model takes a table of columns {_shown(names)}; got "
                    f"{type(data).__name__} with {array.ndim} dimension(s)"
                )
            if array.shape[1] != len(names):
                raise SignatureError(
                    f"input dimension 1 has size {array.shape[1]}; the model expects "
                    f"{len(names)} columns ({_shown(names)})"
                )
            frame = pd.DataFrame(array, columns=names)
    given = [str(c) for c in frame.columns]
    if len(set(given)) != len(given):
        twice = next(name for name in given if given.count(name) > 1)
        raise SignatureError(f"input has column {twice!r} more than once")
    missing = [name for name in names if name not in given]
    if missing:
        raise SignatureError(
            f"input is missing column {missing[0]!r} (the model takes {_shown(names)})"
        )
    extra = [name for name in given if name not in names]
    if extra:
        raise SignatureError(
            f"input has column {extra[0]!r}, which the model does not take "
            f"(it takes {_shown(names)})"
        )
    if len(frame) == 0:
        raise SignatureError("input has no rows")
    columns = {}
    position = {name: index for index, name in enumerate(given)}
    for spec in specs:
        values = _column_array(frame.iloc[:, position[spec.name]])
        columns[spec.name] = cast_values(values, spec.dtype, f"column {spec.name!r}")
    return pd.DataFrame(columns, columns=names)


def _column_array(series: pd.Series[Any]) -> np.ndarray[Any, Any]:
    dtype = series.dtype
    if isinstance(dtype, pd.api.extensions.ExtensionDtype):
        # Nullable, string and categorical dtypes: numpy values when nothing is missing,
        # else objects with None, so that a missing value never passes as a number.
        numpy_dtype = getattr(dtype, "numpy_dtype", None)
        missing = pd.isna(series)
        if numpy_dtype is not None and np.dtype(numpy_dtype).kind != "O" and not missing.any():
            return np.asarray(series, dtype=numpy_dtype)
        values = np.asarray(series, dtype=object)
        values[np.asarray(missing)] = None
        return values
    return np.asarray(series)


def _columns_frame(data: Mapping[Any, Any], names: list[str] | None) -> pd.DataFrame:
    if data and all(np.ndim(v) == 0 for v in data.values()):
        data = {key: [value] for key, value in data.items()}  # one row given as a dict
    columns = {str(key): _array(value, f"column {key!r}") for key, value in data.items()}
    for key, values in columns.items():
        if values.ndim != 1:
            raise SignatureError(f"column {key!r} has {values.ndim} dimension(s); columns are flat")
    lengths = {key: len(values) for key, values in columns.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{k}: {n}" for k, n in list(lengths.items())[:5])
        raise SignatureError(f"columns have different lengths ({shown})")
    return pd.DataFrame(columns)


def _rows_frame(rows: list[Any], names: list[str] | None) -> pd.DataFrame:
    expected = set(names) if names is not None else set(rows[0])
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise SignatureError(f"row {index} is {type(row).__name__}, not a dict of columns")
        if row.keys() != expected:
            keys = set(map(str, row))
            missing = sorted(expected - keys)
            if missing:
                raise SignatureError(f"row {index} is missing column {missing[0]!r}")
            extra = sorted(keys - expected)
            raise SignatureError(
                f"row {index} has column {extra[0]!r}, which "
                + ("the model does not take" if names is not None else "row 0 lacks")
            )
    order = names if names is not None else [str(k) for k in rows[0]]
    return pd.DataFrame({name: [row[name] for row in rows] for name in order}, columns=order)


# -- dtypes -----------------------------------------------------------------------


def cast_values(values: np.ndarray[Any, Any], dtype: str, where: str) -> np.ndarray[Any, Any]:
    """``values`` as ``dtype`` when the cast is allowed (module docstring), else a
    SignatureError naming ``where``."""
    if dtype == "object":
        return values
    given = values.dtype
    if dtype == "str":
        if given.kind == "U":
            return values.astype(object)
        if given.kind == "O" and _all_text(values):
            return values
        raise SignatureError(f"{where} is {_described(values)}; the model expects str")
    if given.kind == "O":  # Python objects: numbers from JSON, None for a missing value
        items = values.ravel().tolist()
        if np.dtype(dtype).kind == "f":
            items = [np.nan if v is None else v for v in items]
        inferred = _array(items, where)
        if inferred.dtype.kind == "O" or inferred.shape != (values.size,):
            raise SignatureError(f"{where} is {_described(values)}; the model expects {dtype}")
        values, given = inferred.reshape(values.shape), inferred.dtype
    want = np.dtype(dtype)
    if given == want:
        return values
    if given.kind in "USO":
        raise SignatureError(f"{where} is {_described(values)}; the model expects {dtype}")
    if np.can_cast(given, want, casting="safe"):
        return values.astype(want)
    if want.kind == "f" and given.kind in "iuf":
        return values.astype(want)
    if want.kind in "iu" and given.kind in "iub" and _fits(values, want):
        return values.astype(want)
    raise SignatureError(
        f"{where} is {given.name}; the model expects {dtype}, and {given.name} -> {dtype} "
        "is not a safe cast"
    )


def _all_text(values: np.ndarray[Any, Any]) -> bool:
    return all(isinstance(v, str) or v is None or v != v for v in values.ravel())


def _described(values: np.ndarray[Any, Any]) -> str:
    name = dtype_name(values.dtype, values.ravel()[:100])
    if name == "object":
        kinds = sorted({type(v).__name__ for v in values.ravel()[:100]})
        return "mixed values (" + ", ".join(kinds) + ")"
    return name


def _fits(values: np.ndarray[Any, Any], want: np.dtype[Any]) -> bool:
    if values.size == 0:
        return True
    info = np.iinfo(want)
    return bool(values.min() >= info.min and values.max() <= info.max)
