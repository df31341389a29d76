"""Open Inference Protocol (V2) datatypes and their numpy counterparts.

``BYTES`` tensors hold text or raw bytes; they become numpy ``object`` arrays of
``str`` (UTF-8 decoded) on the way in, since models take text, and are written
back as UTF-8. ``BF16`` has no numpy type and is refused with a message that says so.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shipyard.errors import InvalidInputError

__all__ = [
    "BYTES",
    "V2_DATATYPES",
    "numpy_dtype",
    "signature_datatype",
    "v2_datatype",
]

BYTES = "BYTES"

V2_DATATYPES: dict[str, np.dtype[Any]] = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype(np.uint8),
    "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32),
    "UINT64": np.dtype(np.uint64),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
    BYTES: np.dtype(object),
}

_BY_NUMPY = {dtype: name for name, dtype in V2_DATATYPES.items() if name != BYTES}


def numpy_dtype(datatype: object, tensor: str) -> np.dtype[Any]:
    """The numpy dtype of a V2 datatype name; InvalidInputError naming ``tensor`` otherwise."""
    if not isinstance(datatype, str):
        raise InvalidInputError(f"tensor {tensor!r}: 'datatype' must be a string")
    found = V2_DATATYPES.get(datatype.upper())
    if found is None:
        known = ", ".join(V2_DATATYPES)
        raise InvalidInputError(
            f"tensor {tensor!r}: datatype {datatype!r} is not supported (use one of {known})"
        )
    return found


def v2_datatype(dtype: np.dtype[Any]) -> str:
    """The V2 datatype of an array's dtype: text and objects are ``BYTES``."""
    if dtype.kind in "OUSV":
        return BYTES
    name = _BY_NUMPY.get(np.dtype(dtype.type))
    if name is None:  # datetimes, complex numbers: sent as their text form
        return BYTES
    return name


def signature_datatype(dtype: str) -> str:
    """The V2 datatype of a signature dtype name (``float64``, ``str``, ``bool`` ...)."""
    try:
        return v2_datatype(np.dtype(dtype))
    except TypeError:
        return BYTES
