"""Input examples as JSON (``input_example.json``) and back.

::

    {"type": "ndarray", "dtype": "float64", "data": [[0.0, 1.5], ...]}
    {"type": "dataframe", "columns": ["age", "city"], "dtypes": {"age": "int64", ...},
     "data": [[31, "Oslo"], ...]}

Only the first :data:`MAX_EXAMPLE_ROWS` rows are kept: an example documents
the input, it is not a copy of the training data.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from shipyard.errors import DataCorruptionError
from shipyard.models.inputs import Prepared
from shipyard.models.signature import dtype_name

__all__ = ["MAX_EXAMPLE_ROWS", "example_from_json", "example_to_json"]

MAX_EXAMPLE_ROWS = 20


def _plain(value: Any) -> Any:
    """What ``json`` cannot write itself: numpy scalars as numbers, the rest (timestamps)
    as text."""
    if isinstance(value, np.generic) and not isinstance(value, np.datetime64):
        return value.item()
    return str(value)


def example_to_json(example: Prepared) -> bytes:
    """The first rows of a prepared example as JSON bytes."""
    head = example[:MAX_EXAMPLE_ROWS]
    if isinstance(head, pd.DataFrame):
        body: dict[str, Any] = {
            "type": "dataframe",
            "columns": [str(c) for c in head.columns],
            "dtypes": {str(c): dtype_name(head[c].dtype, head[c].array) for c in head.columns},
            "data": head.astype(object).where(head.notna(), None).values.tolist(),
        }
    else:
        body = {
            "type": "ndarray",
            "dtype": dtype_name(head.dtype, head.ravel()[:100]),
            "data": head.tolist(),
        }
    return json.dumps(body, default=_plain).encode()


def example_from_json(raw: bytes) -> Prepared:
    """The example an :func:`example_to_json` call wrote."""
    try:
        body = json.loads(raw)
        if body["type"] == "ndarray":
            dtype = body["dtype"]
            return np.asarray(body["data"], dtype=object if dtype in ("str", "object") else dtype)
        if body["type"] == "dataframe":
            frame = pd.DataFrame(body["data"], columns=body["columns"])
            for column, dtype in body["dtypes"].items():
                if dtype in ("str", "object"):
                    frame[column] = frame[column].astype(object)
                elif not frame[column].isna().any() or np.dtype(dtype).kind == "f":
                    frame[column] = frame[column].astype(dtype)
            return frame
        raise ValueError(f"unknown example type {body['type']!r}")
    except (KeyError, TypeError, ValueError) as exc:
        raise DataCorruptionError(f"the model's input example is not readable: {exc}") from None
