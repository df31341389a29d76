"""MLflow-style scoring bodies for ``POST /invocations``.

JSON bodies hold exactly one of ``dataframe_split`` (``{"columns", "data"}``),
``dataframe_records`` (a list of row objects), ``instances`` (a list of rows)
or ``inputs`` (an array, or an object of columns), plus an optional ``params``
object that MLflow clients may send and that these models do not take; a
``text/csv`` body is a table with a header row. The answer is
``{"predictions": [...]}``.

What comes out is what ``Predictor.prepare`` accepts: an array for a tensor
signature (the shape and dtype are checked by ``prepare``), a DataFrame or a
dict of columns for a columns signature.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import orjson

from shipyard.errors import InvalidInputError, UnsupportedMediaTypeError
from shipyard.models.signature import Signature

__all__ = [
    "FORMATS",
    "UnsupportedMediaTypeError",
    "encode_predictions",
    "parse_invocation",
]

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")


def _media_type(content_type: str | None) -> str:
    if not content_type:
        return "application/json"
    return content_type.split(";", 1)[0].strip().lower()


def parse_invocation(body: bytes, content_type: str | None, signature: Signature) -> Any:
    """The model input a scoring body holds; InvalidInputError naming the problem."""
    media = _media_type(content_type)
    if media == "text/csv":
        return _from_csv(body, signature)
    if media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaTypeError(
            f"content type {media!r} is not supported: send application/json or text/csv"
        )
    if not body.strip():
        raise InvalidInputError(
            "the request body is empty: send JSON with one of " + ", ".join(FORMATS)
        )
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"malformed JSON body: {exc}") from None
    if not isinstance(payload, dict):
        raise InvalidInputError("the body must be a JSON object with one of " + ", ".join(FORMATS))
    given = [key for key in FORMATS if key in payload]
    if len(given) != 1:
        found = " and ".join(repr(key) for key in given) if given else "none"
        raise InvalidInputError(
            f"the body must hold exactly one of {', '.join(FORMATS)}; it holds {found}"
        )
    unknown = sorted(set(payload) - {given[0], "params"})
    if unknown:
        raise InvalidInputError(f"unknown field(s) in the body: {', '.join(unknown)}")
    params = payload.get("params")
    if params is not None and not isinstance(params, dict):
        raise InvalidInputError("'params' must be a JSON object")
    key = given[0]
    value = payload[key]
    if key == "dataframe_split":
        return _from_split(value, signature)
    if key == "dataframe_records":
        return _from_records(value, signature)
    if key == "inputs" and isinstance(value, dict):
        return _from_columns(value, signature)
    return _from_rows(value, key, signature)


def _array(value: Any, what: str) -> np.ndarray[Any, Any]:
    try:
        return np.asarray(value)
    except ValueError:
        raise InvalidInputError(f"{what}: rows must all have the same length") from None


def _from_split(value: Any, signature: Signature) -> Any:
    if not isinstance(value, dict) or "data" not in value:
        raise InvalidInputError("'dataframe_split' must be an object with 'data' (and 'columns')")
    data = value["data"]
    columns = value.get("columns")
    if not isinstance(data, list):
        raise InvalidInputError("'dataframe_split.data' must be a list of rows")
    if columns is not None and (
        not isinstance(columns, list) or not all(isinstance(c, str | int) for c in columns)
    ):
        raise InvalidInputError("'dataframe_split.columns' must be a list of column names")
    if signature.kind == "tensor":
        array = _array(data, "'dataframe_split.data'")
        if columns is not None and array.ndim == 2 and array.shape[1] != len(columns):
            raise InvalidInputError(
                f"'dataframe_split' names {len(columns)} columns but its rows hold "
                f"{array.shape[1]} values"
            )
        return array
    import pandas as pd

    for index, row in enumerate(data):
        if not isinstance(row, list):
            raise InvalidInputError(f"'dataframe_split.data[{index}]' must be a list of values")
        if columns is not None and len(row) != len(columns):
            raise InvalidInputError(
                f"'dataframe_split.data[{index}]' holds {len(row)} values for "
                f"{len(columns)} columns"
            )
    return pd.DataFrame(data, columns=columns)


def _from_records(value: Any, signature: Signature) -> Any:
    if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
        raise InvalidInputError("'dataframe_records' must be a list of objects, one per row")
    import pandas as pd

    frame = pd.DataFrame.from_records(value)
    if signature.kind == "tensor":
        return frame.to_numpy()
    return frame


def _from_columns(value: dict[str, Any], signature: Signature) -> Any:
    if signature.kind == "tensor":
        name = signature.inputs[0].name if signature.inputs else None
        if len(value) == 1:
            ((key, only),) = value.items()
            if name is None or key == name:
                return _array(only, f"'inputs.{key}'")
        raise InvalidInputError(
            f"'inputs' as an object must hold one entry, {name!r}: "
            f"it holds {', '.join(map(repr, value)) or 'none'}"
        )
    import pandas as pd

    lengths = {key: len(col) if isinstance(col, list) else None for key, col in value.items()}
    if any(length is None for length in lengths.values()):
        bad = next(key for key, length in lengths.items() if length is None)
        raise InvalidInputError(f"'inputs.{bad}' must be a list of values")
    if len(set(lengths.values())) > 1:
        raise InvalidInputError(f"the columns in 'inputs' differ in length: {lengths}")
    return pd.DataFrame(value)


def _from_rows(value: Any, key: str, signature: Signature) -> Any:
    if not isinstance(value, list):
        raise InvalidInputError(f"'{key}' must be a list of rows")
    if value and all(isinstance(row, dict) for row in value):
        if signature.kind == "tensor":
            name = signature.inputs[0].name if signature.inputs else None
            if name is not None and all(set(row) == {name} for row in value):
                return _array([row[name] for row in value], f"'{key}'")
            raise InvalidInputError(
                f"'{key}' rows as objects must each hold only {name!r} for this tensor model"
            )
        return _from_records(value, signature)
    if signature.kind == "tensor":
        return _array(value, f"'{key}'")
    import pandas as pd

    names = signature.input_names
    for index, row in enumerate(value):
        if not isinstance(row, list) or len(row) != len(names):
            raise InvalidInputError(
                f"'{key}[{index}]' must be a list of {len(names)} values ({', '.join(names)})"
            )
    return pd.DataFrame(value, columns=names)


def _from_csv(body: bytes, signature: Signature) -> Any:
    import pandas as pd

    if not body.strip():
        raise InvalidInputError("the CSV body is empty: send a header row and data rows")
    try:
        frame = pd.read_csv(io.BytesIO(body))
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInputError(f"malformed CSV body: {first}") from None
    if signature.kind == "tensor":
        return frame.to_numpy()
    return frame


def encode_predictions(predictions: np.ndarray[Any, Any]) -> bytes:
    """``{"predictions": [...]}``, one entry per input row."""
    if predictions.dtype.kind in "OUSV" or predictions.dtype == np.float16:
        return orjson.dumps({"predictions": predictions.tolist()})
    return orjson.dumps(
        {"predictions": np.ascontiguousarray(predictions)}, option=orjson.OPT_SERIALIZE_NUMPY
    )
