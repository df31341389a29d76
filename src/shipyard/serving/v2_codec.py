"""Open Inference Protocol (KServe V2) inference bodies, with Triton's binary tensor extension.

A request body is a JSON object, optionally followed by raw tensor bytes: the
``Inference-Header-Content-Length`` header then gives the JSON part's length,
and each input sent as binary carries ``parameters.binary_data_size`` instead
of ``data``; their bytes follow the JSON in the order the inputs are listed.
Binary tensors are little-endian and row-major; ``BOOL`` takes one byte per
element and each ``BYTES`` element is a 4-byte little-endian length and then
its bytes. Outputs are sent as binary when the request asks for it per output
(``outputs[i].parameters.binary_data``) or for all (``parameters.binary_data_output``).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from shipyard.errors import InvalidInputError
from shipyard.serving.datatypes import BYTES, numpy_dtype, v2_datatype

__all__ = [
    "HEADER_LENGTH",
    "EncodedResponse",
    "InferInput",
    "InferRequest",
    "OutputTensor",
    "RequestedOutput",
    "decode_bytes_tensor",
    "decode_request",
    "encode_bytes_tensor",
    "encode_response",
]

HEADER_LENGTH = "Inference-Header-Content-Length"
_LENGTH = struct.Struct("<I")
_MAX_RANK = 32


@dataclass(frozen=True, slots=True)
class InferInput:
    name: str
    datatype: str
    shape: tuple[int, ...]
    data: np.ndarray[Any, Any]


@dataclass(frozen=True, slots=True)
class RequestedOutput:
    name: str
    binary: bool


@dataclass(frozen=True, slots=True)
class InferRequest:
    """A decoded request; ``outputs`` is None when the client asked for every output."""

    id: str | None
    inputs: list[InferInput]
    outputs: list[RequestedOutput] | None
    binary_output: bool
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OutputTensor:
    name: str
    data: np.ndarray[Any, Any]
    binary: bool


@dataclass(frozen=True, slots=True)
class EncodedResponse:
    body: bytes
    media_type: str
    headers: dict[str, str]


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInputError(f"{what} must be a JSON object")
    return value


def _parameters(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    return _object(value, f"{what} 'parameters'")


def decode_request(body: bytes, header_length: str | None) -> InferRequest:
    """Parse an inference request; InvalidInputError names what is wrong."""
    if header_length is None:
        json_part, binary = body, b""
    else:
        try:
            length = int(header_length)
        except ValueError:
            raise InvalidInputError(
                f"{HEADER_LENGTH} must be an integer, got {header_length!r}"
            ) from None
        if not 0 <= length <= len(body):
            raise InvalidInputError(
                f"{HEADER_LENGTH} is {length} but the body has {len(body)} bytes"
            )
        json_part, binary = body[:length], body[length:]
    if not json_part.strip():
        raise InvalidInputError("the request body is empty: send a JSON inference request")
    try:
        payload = orjson.loads(json_part)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"malformed JSON body: {exc}") from None
    request = _object(payload, "the request body")
    parameters = _parameters(request.get("parameters"), "request")
    request_id = request.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise InvalidInputError("'id' must be a string")

    raw_inputs = request.get("inputs")
    if not isinstance(raw_inputs, list) or not raw_inputs:
        raise InvalidInputError("'inputs' must be a non-empty list of tensors")
    inputs: list[InferInput] = []
    offset = 0
    for index, raw in enumerate(raw_inputs):
        tensor, offset = _decode_input(_object(raw, f"inputs[{index}]"), index, binary, offset)
        inputs.append(tensor)
    if offset != len(binary):
        raise InvalidInputError(
            f"the body has {len(binary) - offset} bytes of binary data that no input claims"
        )
    names = [tensor.name for tensor in inputs]
    duplicate = next((name for name in names if names.count(name) > 1), None)
    if duplicate is not None:
        raise InvalidInputError(f"input {duplicate!r} is given more than once")

    binary_output = parameters.get("binary_data_output") is True
    raw_outputs = request.get("outputs")
    outputs: list[RequestedOutput] | None = None
    if raw_outputs is not None:
        if not isinstance(raw_outputs, list):
            raise InvalidInputError("'outputs' must be a list")
        outputs = []
        for index, raw in enumerate(raw_outputs):
            item = _object(raw, f"outputs[{index}]")
            name = item.get("name")
            if not isinstance(name, str):
                raise InvalidInputError(f"outputs[{index}] needs a string 'name'")
            output_parameters = _parameters(item.get("parameters"), f"output {name!r}")
            _refuse_unsupported(output_parameters, f"output {name!r}")
            wanted = output_parameters.get("binary_data")
            outputs.append(
                RequestedOutput(name, binary_output if wanted is None else wanted is True)
            )
    return InferRequest(request_id, inputs, outputs, binary_output, parameters)


def _refuse_unsupported(parameters: dict[str, Any], what: str) -> None:
    for key in ("shared_memory_region", "classification"):
        if key in parameters:
            raise InvalidInputError(f"{what}: parameter {key!r} is not supported by this server")


def _shape(value: Any, name: str) -> tuple[int, ...]:
    if not isinstance(value, list) or len(value) > _MAX_RANK:
        raise InvalidInputError(f"input {name!r}: 'shape' must be a list of dimension sizes")
    for dim in value:
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 0:
            raise InvalidInputError(
                f"input {name!r}: shape {value} must hold sizes >= 0 (no -1 in a request)"
            )
    return tuple(value)


def _decode_input(
    raw: dict[str, Any], index: int, binary: bytes, offset: int
) -> tuple[InferInput, int]:
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidInputError(f"inputs[{index}] needs a non-empty string 'name'")
    shape = _shape(raw.get("shape"), name)
    datatype = str(raw.get("datatype", "")).upper()
    dtype = numpy_dtype(raw.get("datatype"), name)
    parameters = _parameters(raw.get("parameters"), f"input {name!r}")
    _refuse_unsupported(parameters, f"input {name!r}")
    count = math.prod(shape)
    size = parameters.get("binary_data_size")
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise InvalidInputError(f"input {name!r}: binary_data_size must be an integer >= 0")
        if offset + size > len(binary):
            raise InvalidInputError(
                f"input {name!r}: binary_data_size is {size} but only "
                f"{len(binary) - offset} bytes of binary data are left in the body"
            )
        chunk = binary[offset : offset + size]
        data = _from_binary(chunk, dtype, datatype, shape, count, name)
        return InferInput(name, datatype, shape, data), offset + size
    if "data" not in raw:
        raise InvalidInputError(f"input {name!r} has neither 'data' nor binary_data_size")
    data = _from_json(raw["data"], dtype, datatype, shape, count, name)
    return InferInput(name, datatype, shape, data), offset


def _from_binary(
    chunk: bytes,
    dtype: np.dtype[Any],
    datatype: str,
    shape: tuple[int, ...],
    count: int,
    name: str,
) -> np.ndarray[Any, Any]:
    if datatype == BYTES:
        return decode_bytes_tensor(chunk, count, name).reshape(shape)
    expected = count * dtype.itemsize
    if len(chunk) != expected:
        raise InvalidInputError(
            f"input {name!r}: shape {list(shape)} of {datatype} needs {expected} bytes, "
            f"binary_data_size is {len(chunk)}"
        )
    if datatype == "BOOL" and chunk and int(np.frombuffer(chunk, np.uint8).max()) > 1:
        raise InvalidInputError(f"input {name!r}: BOOL elements must be bytes 0 or 1")
    # A copy: frombuffer's array is read-only and some models write into their input.
    return np.frombuffer(chunk, dtype=dtype.newbyteorder("<")).astype(dtype).reshape(shape)


def decode_bytes_tensor(chunk: bytes, count: int, name: str) -> np.ndarray[Any, Any]:
    """``count`` length-prefixed elements, as an object array of str (bytes when not UTF-8)."""
    # Each element takes at least its 4-byte length: check before allocating count slots.
    if len(chunk) < 4 * count:
        raise InvalidInputError(
            f"input {name!r}: {count} BYTES elements need at least {4 * count} bytes, "
            f"binary_data_size is {len(chunk)}"
        )
    out = np.empty(count, dtype=object)
    position = 0
    view = memoryview(chunk)
    for i in range(count):
        if position + 4 > len(chunk):
            raise InvalidInputError(
                f"input {name!r}: binary BYTES data ends after {i} of {count} elements"
            )
        (length,) = _LENGTH.unpack_from(view, position)
        position += 4
        if position + length > len(chunk):
            raise InvalidInputError(
                f"input {name!r}: BYTES element {i} claims {length} bytes past the end of its data"
            )
        raw = chunk[position : position + length]
        position += length
        try:
            out[i] = raw.decode("utf-8")
        except UnicodeDecodeError:
            out[i] = raw
    if position != len(chunk):
        raise InvalidInputError(
            f"input {name!r}: {len(chunk) - position} bytes are left after {count} BYTES elements"
        )
    return out


def _flatten_text(data: Any, out: list[Any], name: str) -> None:
    if isinstance(data, list):
        for item in data:
            _flatten_text(item, out, name)
    elif isinstance(data, str):
        out.append(data)
    else:
        raise InvalidInputError(
            f"input {name!r}: BYTES data must hold strings, found {type(data).__name__}"
        )


def _from_json(
    data: Any,
    dtype: np.dtype[Any],
    datatype: str,
    shape: tuple[int, ...],
    count: int,
    name: str,
) -> np.ndarray[Any, Any]:
    if datatype == BYTES:
        flat: list[Any] = []
        _flatten_text(data, flat, name)
        array = np.empty(len(flat), dtype=object)
        array[:] = flat
    else:
        try:
            array = np.asarray(data)
        except ValueError:
            raise InvalidInputError(
                f"input {name!r}: nested 'data' lists must all have the same length"
            ) from None
        array = _as_numbers(array, dtype, datatype, name)
    if array.size != count:
        raise InvalidInputError(
            f"input {name!r}: shape {list(shape)} needs {count} elements, 'data' holds {array.size}"
        )
    return array.reshape(shape)


def _as_numbers(
    array: np.ndarray[Any, Any], dtype: np.dtype[Any], datatype: str, name: str
) -> np.ndarray[Any, Any]:
    kind = array.dtype.kind
    if array.size == 0:
        return array.astype(dtype)
    if dtype.kind == "b":
        ok = kind == "b"
    elif dtype.kind in "iu":
        # 3.0 is an integer to JSON's writers (JavaScript has one number type).
        ok = kind in "iu" or (
            kind == "f" and bool(np.all(np.isfinite(array))) and bool(np.all(array % 1 == 0))
        )
    else:
        ok = kind in "iuf"
    if not ok:
        found = {"b": "booleans", "f": "non-integer numbers", "U": "strings"}.get(
            kind, "values of mixed or unknown types"
        )
        raise InvalidInputError(f"input {name!r}: {datatype} data holds {found}")
    if dtype.kind in "iu" and array.dtype != dtype:
        info = np.iinfo(dtype)
        if int(array.min()) < info.min or int(array.max()) > info.max:
            raise InvalidInputError(f"input {name!r}: a value is out of the range of {datatype}")
    return array.astype(dtype, copy=False)


def encode_bytes_tensor(array: np.ndarray[Any, Any]) -> bytes:
    """Elements as 4-byte little-endian lengths and UTF-8 bytes."""
    parts: list[bytes] = []
    for item in array.ravel():
        raw = item if isinstance(item, bytes) else str(item).encode("utf-8")
        parts.append(_LENGTH.pack(len(raw)))
        parts.append(raw)
    return b"".join(parts)


def _json_data(array: np.ndarray[Any, Any], datatype: str) -> Any:
    if datatype == BYTES:
        return [
            item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
            for item in array.ravel()
        ]
    if array.dtype == np.float16:
        array = array.astype(np.float32)
    return np.ascontiguousarray(array).ravel()


def encode_response(
    model_name: str,
    model_version: str | None,
    request_id: str | None,
    outputs: list[OutputTensor],
) -> EncodedResponse:
    """The response body: JSON, then the binary outputs' bytes in the order listed."""
    tensors: list[dict[str, Any]] = []
    blobs: list[bytes] = []
    for output in outputs:
        datatype = v2_datatype(output.data.dtype)
        tensor: dict[str, Any] = {
            "name": output.name,
            "datatype": datatype,
            "shape": list(output.data.shape),
        }
        if output.binary:
            if datatype == BYTES:
                blob = encode_bytes_tensor(output.data)
            else:
                little = output.data.dtype.newbyteorder("<")
                blob = np.ascontiguousarray(output.data, dtype=little).tobytes()
            tensor["parameters"] = {"binary_data_size": len(blob)}
            blobs.append(blob)
        else:
            tensor["data"] = _json_data(output.data, datatype)
        tensors.append(tensor)
    payload: dict[str, Any] = {"model_name": model_name}
    if model_version is not None:
        payload["model_version"] = model_version
    if request_id is not None:
        payload["id"] = request_id
    payload["outputs"] = tensors
    header = orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)
    if not blobs:
        return EncodedResponse(header, "application/json", {})
    return EncodedResponse(
        header + b"".join(blobs),
        "application/octet-stream",
        {HEADER_LENGTH: str(len(header))},
    )
