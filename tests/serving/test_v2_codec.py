"""The V2 codec: JSON and binary tensors in, JSON and binary tensors out."""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
import pytest

from shipyard.errors import InvalidInputError
from shipyard.serving.v2_codec import (
    HEADER_LENGTH,
    OutputTensor,
    decode_bytes_tensor,
    decode_request,
    encode_bytes_tensor,
    encode_response,
)

NUMERIC = {
    "BOOL": np.bool_,
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "UINT32": np.uint32,
    "UINT64": np.uint64,
    "INT8": np.int8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "FP16": np.float16,
    "FP32": np.float32,
    "FP64": np.float64,
}


def _body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def _binary_request(tensors: list[tuple[str, str, np.ndarray[Any, Any]]]) -> tuple[bytes, str]:
    inputs = []
    blobs = []
    for name, datatype, array in tensors:
        blob = (
            encode_bytes_tensor(array)
            if datatype == "BYTES"
            else array.astype(array.dtype.newbyteorder("<")).tobytes()
        )
        blobs.append(blob)
        inputs.append(
            {
                "name": name,
                "datatype": datatype,
                "shape": list(array.shape),
                "parameters": {"binary_data_size": len(blob)},
            }
        )
    header = _body({"inputs": inputs})
    return header + b"".join(blobs), str(len(header))


@pytest.mark.parametrize("datatype", sorted(NUMERIC))
def test_every_numeric_datatype_round_trips_as_json_and_binary(datatype: str) -> None:
    dtype = NUMERIC[datatype]
    array = (np.arange(6) % 2 == 0) if datatype == "BOOL" else np.arange(6).astype(dtype)
    array = array.reshape(2, 3)
    data = array.tolist()  # nested
    as_json = decode_request(
        _body({"inputs": [{"name": "x", "datatype": datatype, "shape": [2, 3], "data": data}]}),
        None,
    ).inputs[0]
    assert as_json.data.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(as_json.data, array)

    body, length = _binary_request([("x", datatype, array)])
    as_binary = decode_request(body, length).inputs[0]
    assert as_binary.data.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(as_binary.data, array)
    assert as_binary.data.flags.writeable


def test_flat_data_takes_the_declared_shape() -> None:
    request = decode_request(
        _body(
            {"inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 2], "data": [1, 2, 3, 4]}]}
        ),
        None,
    )
    np.testing.assert_array_equal(request.inputs[0].data, [[1, 2], [3, 4]])


def test_bytes_tensors_in_json_and_binary() -> None:
    words = np.array(["Oslo", "Zürich", ""], dtype=object)
    request = decode_request(
        _body({"inputs": [{"name": "s", "datatype": "BYTES", "shape": [3], "data": list(words)}]}),
        None,
    )
    assert list(request.inputs[0].data) == list(words)
    body, length = _binary_request([("s", "BYTES", words)])
    assert list(decode_request(body, length).inputs[0].data) == list(words)
    raw = encode_bytes_tensor(words)
    assert raw[:4] == struct.pack("<I", 4) and raw[4:8] == b"Oslo"
    assert list(decode_bytes_tensor(raw, 3, "s")) == list(words)


def test_binary_and_json_inputs_mix_in_one_request() -> None:
    a = np.array([[1.5, 2.5]], dtype=np.float64)
    blob = a.tobytes()
    header = _body(
        {
            "id": "r1",
            "inputs": [
                {
                    "name": "a",
                    "datatype": "FP64",
                    "shape": [1, 2],
                    "parameters": {"binary_data_size": len(blob)},
                },
                {"name": "b", "datatype": "INT32", "shape": [1], "data": [7]},
            ],
            "outputs": [{"name": "y", "parameters": {"binary_data": True}}, {"name": "z"}],
        }
    )
    request = decode_request(header + blob, str(len(header)))
    assert request.id == "r1"
    np.testing.assert_array_equal(request.inputs[0].data, a)
    assert request.inputs[1].data.tolist() == [7]
    assert [(o.name, o.binary) for o in request.outputs or []] == [("y", True), ("z", False)]


def test_binary_data_output_applies_to_every_output_unless_one_says_otherwise() -> None:
    request = decode_request(
        _body(
            {
                "parameters": {"binary_data_output": True},
                "inputs": [{"name": "x", "datatype": "FP64", "shape": [1], "data": [1]}],
                "outputs": [{"name": "a"}, {"name": "b", "parameters": {"binary_data": False}}],
            }
        ),
        None,
    )
    assert request.binary_output
    assert [(o.name, o.binary) for o in request.outputs or []] == [("a", True), ("b", False)]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"inputs": []}, "non-empty list"),
        (
            {"inputs": [{"name": "x", "datatype": "FP64", "shape": [2], "data": [1]}]},
            "needs 2 elements",
        ),
        (
            {"inputs": [{"name": "x", "datatype": "FP64", "shape": [1], "data": ["a"]}]},
            "holds strings",
        ),
        (
            {"inputs": [{"name": "x", "datatype": "INT64", "shape": [1], "data": [1.5]}]},
            "non-integer",
        ),
        (
            {"inputs": [{"name": "x", "datatype": "INT8", "shape": [1], "data": [300]}]},
            "out of the range",
        ),
        (
            {"inputs": [{"name": "x", "datatype": "BF16", "shape": [1], "data": [1]}]},
            "not supported",
        ),
        ({"inputs": [{"name": "x", "datatype": "FP64", "shape": [-1], "data": [1]}]}, "no -1"),
        ({"inputs": [{"name": "x", "datatype": "FP64", "shape": [1]}]}, "neither 'data'"),
        (
            {"inputs": [{"name": "x", "datatype": "FP64", "shape": [2], "data": [[1], [2, 3]]}]},
            "same length",
        ),
        (
            {"inputs": [{"name": "x", "datatype": "BYTES", "shape": [1], "data": [1]}]},
            "must hold strings",
        ),
        (
            {"inputs": [{"name": "x", "datatype": "FP64", "shape": [1], "data": [1]}] * 2},
            "more than once",
        ),
        (
            {
                "inputs": [
                    {
                        "name": "x",
                        "datatype": "FP64",
                        "shape": [1],
                        "parameters": {"shared_memory_region": "r"},
                    }
                ]
            },
            "not supported",
        ),
        ([1, 2], "JSON object"),
    ],
)
def test_bad_requests_name_the_problem(payload: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        decode_request(json.dumps(payload).encode(), None)


def test_bad_binary_bodies_name_the_problem() -> None:
    array = np.ones((2, 2))
    body, length = _binary_request([("x", "FP64", array)])
    with pytest.raises(InvalidInputError, match="left in the body"):
        decode_request(body[:-8], length)
    with pytest.raises(InvalidInputError, match="no input claims"):
        decode_request(body + b"extra", length)
    with pytest.raises(InvalidInputError, match="must be an integer"):
        decode_request(body, "abc")
    with pytest.raises(InvalidInputError, match="malformed JSON"):
        decode_request(b"{not json", None)
    with pytest.raises(InvalidInputError, match="BYTES element 0 claims"):
        decode_bytes_tensor(struct.pack("<I", 10) + b"abc", 1, "s")


def test_a_huge_declared_bytes_shape_with_little_data_is_refused_before_allocating() -> None:
    header = {
        "inputs": [
            {
                "name": "s",
                "shape": [1_000_000_000, 1_000_000_000],
                "datatype": "BYTES",
                "parameters": {"binary_data_size": 8},
            }
        ]
    }
    head = json.dumps(header).encode()
    with pytest.raises(InvalidInputError, match="need at least"):
        decode_request(head + struct.pack("<I", 4) + b"abcd", str(len(head)))


def test_binary_bool_elements_must_be_zero_or_one() -> None:
    header = {
        "inputs": [
            {"name": "b", "shape": [2], "datatype": "BOOL", "parameters": {"binary_data_size": 2}}
        ]
    }
    head = json.dumps(header).encode()
    assert list(decode_request(head + b"\x01\x00", str(len(head))).inputs[0].data) == [
        True,
        False,
    ]
    with pytest.raises(InvalidInputError, match="BOOL elements must be bytes 0 or 1"):
        decode_request(head + b"\x02\x00", str(len(head)))


def test_response_in_json() -> None:
    encoded = encode_response(
        "m",
        "3",
        "r1",
        [
            OutputTensor("label", np.array([1, 2], dtype=np.int64), False),
            OutputTensor("p", np.array([[0.25, 0.75]], dtype=np.float16), False),
            OutputTensor("name", np.array(["a", "b"], dtype=object), False),
        ],
    )
    assert encoded.media_type == "application/json" and not encoded.headers
    body = json.loads(encoded.body)
    assert body["model_name"] == "m" and body["model_version"] == "3" and body["id"] == "r1"
    assert body["outputs"][0] == {
        "name": "label",
        "datatype": "INT64",
        "shape": [2],
        "data": [1, 2],
    }
    assert body["outputs"][1]["datatype"] == "FP16" and body["outputs"][1]["data"] == [0.25, 0.75]
    assert body["outputs"][2] == {
        "name": "name",
        "datatype": "BYTES",
        "shape": [2],
        "data": ["a", "b"],
    }


def test_response_with_binary_outputs_puts_bytes_after_the_json_in_order() -> None:
    labels = np.array([3, 1], dtype=np.int64)
    probs = np.array([[0.1, 0.9], [0.8, 0.2]])
    words = np.array(["x", "yz"], dtype=object)
    encoded = encode_response(
        "m",
        None,
        None,
        [
            OutputTensor("a", labels, True),
            OutputTensor("b", probs, False),
            OutputTensor("c", words, True),
        ],
    )
    length = int(encoded.headers[HEADER_LENGTH])
    header = json.loads(encoded.body[:length])
    assert "model_version" not in header and "id" not in header
    a, b, c = header["outputs"]
    assert a["parameters"] == {"binary_data_size": 16} and "data" not in a
    assert b["data"] == [0.1, 0.9, 0.8, 0.2]
    rest = encoded.body[length:]
    np.testing.assert_array_equal(np.frombuffer(rest[:16], "<i8"), labels)
    assert list(decode_bytes_tensor(rest[16:], 2, "c")) == ["x", "yz"]
    assert c["parameters"]["binary_data_size"] == len(rest) - 16
