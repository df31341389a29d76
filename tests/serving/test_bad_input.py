"""Bad input gets a 4xx that names the problem, never a 500: V2 and /invocations."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.serving.conftest import MAX_BODY_BYTES, Registry, assert_error, assert_v2_error

INFER = "/v2/models/digits/infer"


def _input(**fields: Any) -> dict[str, Any]:
    tensor = {"name": "input", "datatype": "FP64", "shape": [1, 64], "data": [0.0] * 64}
    tensor.update(fields)
    return {"inputs": [tensor]}


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        (_input(shape=[1, 63], data=[0.0] * 63), ["dimension 1 has size 63", "64"]),
        (_input(shape=[64], data=[0.0] * 64), ["1 dimension", "reshape(1, -1)"]),
        (_input(shape=[2, 64]), ["needs 128 elements", "holds 64"]),
        (_input(datatype="BYTES", data=["a"] * 64), ["float64"]),
        (_input(datatype="FP64", data=["a"] * 64), ["holds strings"]),
        (_input(datatype="FP128"), ["'FP128' is not supported"]),
        (_input(name="pixels"), ["unknown input 'pixels'", "'input'"]),
        ({"inputs": []}, ["non-empty list"]),
        ({"outputs": [{"name": "predictions"}]}, ["'inputs'"]),
        (_input(shape=[0, 64], data=[]), ["no rows"]),
        ({"inputs": [{"name": "input", "datatype": "FP64", "shape": [1, 64]}]}, ["neither"]),
        ([1, 2, 3], ["JSON object"]),
    ],
)
def test_v2_bad_requests(url: str, body: Any, needles: list[str]) -> None:
    assert_v2_error(httpx.post(f"{url}{INFER}", json=body), 400, *needles)


@pytest.mark.parametrize(
    ("content", "headers", "needles"),
    [
        (b'{"inputs": [', {}, ["malformed JSON"]),
        (b"", {}, ["empty"]),
        (b"\xff\xfe", {}, ["malformed JSON"]),
        (b'{"inputs": []}', {"Inference-Header-Content-Length": "99"}, ["the body has 14 bytes"]),
        (b'{"inputs": []}', {"Inference-Header-Content-Length": "x"}, ["must be an integer"]),
        (b"not gzip", {"Content-Encoding": "gzip"}, ["does not decompress"]),
        (b"{}", {"Content-Encoding": "br"}, ["'br' is not supported"]),
    ],
)
def test_v2_malformed_bodies(
    url: str, content: bytes, headers: dict[str, str], needles: list[str]
) -> None:
    response = httpx.post(f"{url}{INFER}", content=content, headers=headers)
    assert_v2_error(response, 400, *needles)


def test_binary_sizes_that_do_not_add_up(url: str) -> None:
    header = json.dumps(
        {
            "inputs": [
                {
                    "name": "input",
                    "datatype": "FP64",
                    "shape": [1, 64],
                    "parameters": {"binary_data_size": 100},
                }
            ]
        }
    ).encode()
    response = httpx.post(
        f"{url}{INFER}",
        content=header + b"\0" * 100,
        headers={"Inference-Header-Content-Length": str(len(header))},
    )
    assert_v2_error(response, 400, "needs 512 bytes", "binary_data_size is 100")
    response = httpx.post(
        f"{url}{INFER}",
        content=header + b"\0" * 10,
        headers={"Inference-Header-Content-Length": str(len(header))},
    )
    assert_v2_error(response, 400, "only 10 bytes")


def test_oversized_bodies_are_refused_by_the_limit(url: str) -> None:
    big = b'{"inputs": [' + b" " * MAX_BODY_BYTES + b"]}"
    response = httpx.post(f"{url}{INFER}", content=big)
    assert_v2_error(response, 413, "larger than the limit", "--max-body-bytes")

    def chunks() -> Any:
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b" " * 65536

    # No Content-Length: refused while reading, however the chunks fall (a body that
    # had all arrived once failed to be read a second time, a 500).
    for _ in range(5):
        response = httpx.post(f"{url}/invocations", content=chunks())
        assert_error(response, 413, "PAYLOAD_TOO_LARGE", "--max-body-bytes")


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        ({"instances": [[0.0] * 63]}, ["dimension 1 has size 63"]),
        ({"instances": [[0.0] * 64, [0.0] * 63]}, ["same length"]),
        ({"instances": [["a"] * 64]}, ["float64"]),
        ({"dataframe_split": {"columns": ["a"], "data": [[0.0] * 64]}}, ["names 1 columns"]),
        ({"dataframe_split": [1]}, ["'dataframe_split' must be an object"]),
        ({"dataframe_records": [1, 2]}, ["list of objects"]),
        ({"inputs": {"pixels": [[0.0] * 64]}}, ["'input'", "'pixels'"]),
        ({"instances": [[0.0] * 64], "inputs": [[0.0] * 64]}, ["exactly one of"]),
        ({"data": [[0.0] * 64]}, ["exactly one of", "none"]),
        ({"instances": [[0.0] * 64], "extra": 1}, ["unknown field(s) in the body: extra"]),
        ({"instances": [[0.0] * 64], "params": [1]}, ["'params' must be a JSON object"]),
        ({"instances": []}, ["1 dimension(s)"]),
        ([[0.0] * 64], ["JSON object"]),
    ],
)
def test_invocations_bad_requests(url: str, body: Any, needles: list[str]) -> None:
    response = httpx.post(f"{url}/invocations", json=body)
    assert response.status_code == 400, response.text
    message = response.json()["error"]["message"]
    for needle in needles:
        assert needle in message, message


def test_invocations_bad_bodies_and_media_types(url: str, registry: Registry) -> None:
    bad_json = httpx.post(
        f"{url}/invocations", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert_error(bad_json, 400, "INVALID_INPUT", "malformed JSON")
    xml = httpx.post(f"{url}/invocations", content=b"<x/>", headers={"Content-Type": "text/xml"})
    assert_error(xml, 415, "UNSUPPORTED_MEDIA_TYPE", "'text/xml'", "text/csv")
    csv = httpx.post(
        f"{url}/invocations", content=b"a,b\n1,2\n", headers={"Content-Type": "text/csv"}
    )
    assert_error(csv, 400, "SIGNATURE_MISMATCH", "dimension 1 has size 2")
    text_csv = httpx.post(
        f"{url}/invocations",
        content=b"a\n" + b"x\n",
        headers={"Content-Type": "text/csv; charset=utf-8"},
    )
    assert text_csv.status_code == 400
    empty = httpx.post(f"{url}/invocations", content=b"", headers={"Content-Type": "text/csv"})
    assert_error(empty, 400, "INVALID_INPUT", "CSV body is empty")


def test_wrong_methods_and_paths(url: str) -> None:
    assert_v2_error(httpx.get(f"{url}{INFER}"), 405, "GET is not allowed")
    assert_error(httpx.get(f"{url}/invocations"), 405, "METHOD_NOT_ALLOWED")
    assert_error(httpx.get(f"{url}/nothing"), 404, "NOT_FOUND", "no such endpoint")
