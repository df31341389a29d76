"""Every endpoint of a real ``shipyard serve`` subprocess serving a logged digits model."""

from __future__ import annotations

import gzip
import io
import json
import struct
from typing import Any

import httpx
import numpy as np
import pandas as pd

from tests.serving.conftest import Registry, assert_v2_error

INFER = "/v2/models/digits/infer"


def _tensor(x: np.ndarray[Any, Any], datatype: str = "FP64", flat: bool = True) -> dict[str, Any]:
    data = x.ravel().tolist() if flat else x.tolist()
    return {"name": "input", "datatype": datatype, "shape": list(x.shape), "data": data}


def test_health_and_server_metadata(url: str) -> None:
    assert httpx.get(f"{url}/v2/health/live").json() == {"live": True}
    assert httpx.get(f"{url}/v2/health/ready").json() == {"ready": True}
    meta = httpx.get(f"{url}/v2").json()
    assert meta["name"] == "shipyard" and "binary_tensor_data" in meta["extensions"]
    ping = httpx.get(f"{url}/ping")
    assert ping.status_code == 200
    health = httpx.get(f"{url}/health").json()
    assert health == {"status": "ok", "model": "digits", "versions": {"primary": "1"}}
    from shipyard import __version__

    assert httpx.get(f"{url}/version").text == __version__


def test_model_metadata_comes_from_the_signature(url: str) -> None:
    meta = httpx.get(f"{url}/v2/models/digits").json()
    assert meta["name"] == "digits" and meta["versions"] == ["1"]
    assert meta["platform"] == "shipyard-sklearn"
    assert meta["inputs"] == [{"name": "input", "datatype": "FP64", "shape": [-1, 64]}]
    assert meta["outputs"] == [
        {"name": "predictions", "datatype": "INT64", "shape": [-1]},
        {"name": "probabilities", "datatype": "FP64", "shape": [-1, 10]},
    ]
    assert httpx.get(f"{url}/v2/models/digits/versions/1").json()["versions"] == ["1"]
    assert httpx.get(f"{url}/v2/models/digits/ready").json() == {"name": "digits", "ready": True}
    assert httpx.get(f"{url}/v2/models/digits/versions/1/ready").status_code == 200


def test_unknown_models_and_versions_are_404(url: str) -> None:
    assert_v2_error(httpx.get(f"{url}/v2/models/mnist"), 404, "'mnist'", "'digits'")
    assert_v2_error(httpx.get(f"{url}/v2/models/digits/versions/9/ready"), 404, "'9'")
    body = {"inputs": [_tensor(np.zeros((1, 64)))]}
    assert_v2_error(httpx.post(f"{url}/v2/models/mnist/infer", json=body), 404, "'mnist'")
    assert_v2_error(
        httpx.post(f"{url}/v2/models/digits/versions/7/infer", json=body), 404, "loaded: 1"
    )
    assert_v2_error(httpx.get(f"{url}/v2/nothing/here"), 404, "no such endpoint")


def test_infer_in_json_flat_and_nested(registry: Registry, url: str) -> None:
    x = registry.x[10:15]
    expected = registry.expected("digits", 1, x)
    for flat in (True, False):
        response = httpx.post(
            f"{url}{INFER}",
            json={"id": "req-1", "parameters": {"note": "x"}, "inputs": [_tensor(x, flat=flat)]},
        )
        assert response.status_code == 200, response.text
        assert response.headers["shipyard-model-version"] == "1"
        assert response.headers["x-request-id"] == "req-1"
        body = response.json()
        assert body["model_name"] == "digits" and body["model_version"] == "1"
        assert body["id"] == "req-1"
        predictions, probabilities = body["outputs"]
        assert predictions == {
            "name": "predictions",
            "datatype": "INT64",
            "shape": [5],
            "data": expected.tolist(),
        }
        assert probabilities["shape"] == [5, 10] and probabilities["datatype"] == "FP64"
        probs = np.array(probabilities["data"]).reshape(5, 10)
        np.testing.assert_array_equal(probs.argmax(axis=1), expected)


def test_outputs_selection_and_request_ids(registry: Registry, url: str) -> None:
    x = registry.x[:3]
    body = {"inputs": [_tensor(x)], "outputs": [{"name": "probabilities"}]}
    response = httpx.post(f"{url}{INFER}", json=body, headers={"X-Request-ID": "abc-123"})
    assert response.status_code == 200
    assert [o["name"] for o in response.json()["outputs"]] == ["probabilities"]
    assert response.headers["x-request-id"] == "abc-123"
    generated = httpx.post(f"{url}{INFER}", json={"inputs": [_tensor(x)]})
    assert len(generated.headers["x-request-id"]) == 32
    assert "id" not in generated.json()
    unknown = httpx.post(f"{url}{INFER}", json={**body, "outputs": [{"name": "logits"}]})
    assert_v2_error(unknown, 400, "'logits'", "'predictions'")


def test_fp32_and_integer_inputs_are_cast_to_the_models_float64(
    registry: Registry, url: str
) -> None:
    x = registry.x[:4]
    expected = registry.expected("digits", 1, x).tolist()
    for datatype in ("FP32", "INT64", "UINT8", "FP16"):
        body = {"inputs": [_tensor(x, datatype)], "outputs": [{"name": "predictions"}]}
        response = httpx.post(f"{url}{INFER}", json=body)
        assert response.status_code == 200, (datatype, response.text)
        assert response.json()["outputs"][0]["data"] == expected


def test_binary_tensors_in_and_out_by_hand(registry: Registry, url: str) -> None:
    x = registry.x[20:26]
    blob = x.astype("<f8").tobytes()
    header = json.dumps(
        {
            "inputs": [
                {
                    "name": "input",
                    "datatype": "FP64",
                    "shape": [6, 64],
                    "parameters": {"binary_data_size": len(blob)},
                }
            ],
            "outputs": [
                {"name": "predictions", "parameters": {"binary_data": True}},
                {"name": "probabilities"},
            ],
        }
    ).encode()
    response = httpx.post(
        f"{url}{INFER}",
        content=header + blob,
        headers={
            "Inference-Header-Content-Length": str(len(header)),
            "Content-Type": "application/octet-stream",
        },
    )
    assert response.status_code == 200, response.text
    length = int(response.headers["inference-header-content-length"])
    head = json.loads(response.content[:length])
    predictions, probabilities = head["outputs"]
    assert predictions["parameters"] == {"binary_data_size": 48}
    values = np.frombuffer(response.content[length:], dtype="<i8")
    np.testing.assert_array_equal(values, registry.expected("digits", 1, x))
    assert len(probabilities["data"]) == 60


def test_a_large_request_is_decoded_off_the_loop_and_answered_whole(
    registry: Registry, url: str
) -> None:
    x = registry.x[:1500]  # 768 kB of FP64, more rows than --max-batch-size
    blob = x.astype("<f8").tobytes()
    header = json.dumps(
        {
            "inputs": [
                {
                    "name": "input",
                    "datatype": "FP64",
                    "shape": list(x.shape),
                    "parameters": {"binary_data_size": len(blob)},
                }
            ],
            "outputs": [{"name": "predictions"}],
        }
    ).encode()
    response = httpx.post(
        f"{url}{INFER}",
        content=header + blob,
        headers={"Inference-Header-Content-Length": str(len(header))},
    )
    assert response.status_code == 200, response.text
    assert response.json()["outputs"][0]["data"] == registry.expected("digits", 1, x).tolist()


def test_gzip_request_bodies(registry: Registry, url: str) -> None:
    x = registry.x[:2]
    body = gzip.compress(json.dumps({"inputs": [_tensor(x)]}).encode())
    response = httpx.post(
        f"{url}{INFER}",
        content=body,
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["outputs"][0]["data"] == registry.expected("digits", 1, x).tolist()


def test_invocations_in_every_format(registry: Registry, url: str) -> None:
    x = registry.x[30:34]
    expected = registry.expected("digits", 1, x).tolist()
    columns = [f"pixel_{i}" for i in range(64)]
    bodies: list[dict[str, Any]] = [
        {"dataframe_split": {"columns": columns, "data": x.tolist()}},
        {"dataframe_split": {"data": x.tolist()}},
        {"dataframe_records": [dict(zip(columns, row, strict=True)) for row in x.tolist()]},
        {"instances": x.tolist()},
        {"instances": [{"input": row} for row in x.tolist()]},
        {"inputs": x.tolist()},
        {"inputs": {"input": x.tolist()}},
        {"instances": x.tolist(), "params": {}},
    ]
    for body in bodies:
        response = httpx.post(f"{url}/invocations", json=body)
        assert response.status_code == 200, (list(body), response.text)
        assert response.json() == {"predictions": expected}
        assert response.headers["shipyard-model-version"] == "1"
        assert response.headers["x-request-id"]
    frame = pd.DataFrame(x, columns=columns)
    csv = io.StringIO()
    frame.to_csv(csv, index=False)
    response = httpx.post(
        f"{url}/invocations", content=csv.getvalue(), headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": expected}


def test_bytes_elements_round_trip_through_the_binary_codec_of_a_real_server(url: str) -> None:
    """A BYTES input to this FP64 model is refused by name, in binary form too."""
    words = [b"seven", b"three"]
    blob = b"".join(struct.pack("<I", len(w)) + w for w in words)
    header = json.dumps(
        {
            "inputs": [
                {
                    "name": "input",
                    "datatype": "BYTES",
                    "shape": [2, 1],
                    "parameters": {"binary_data_size": len(blob)},
                }
            ]
        }
    ).encode()
    response = httpx.post(
        f"{url}{INFER}",
        content=header + blob,
        headers={"Inference-Header-Content-Length": str(len(header))},
    )
    assert_v2_error(response, 400, "float64")
