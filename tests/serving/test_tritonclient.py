"""NVIDIA's ``tritonclient`` HTTP client against a real ``shipyard serve``: binary tensor
data on (its default) and off, every metadata call, errors as its exceptions."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from tests.serving.conftest import Registry


@pytest.fixture
def client(url: str) -> Iterator[triton.InferenceServerClient]:
    c = triton.InferenceServerClient(url.removeprefix("http://"))
    yield c
    c.close()


def test_metadata_calls(client: triton.InferenceServerClient) -> None:
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("digits") and client.is_model_ready("digits", "1")
    assert not client.is_model_ready("mnist")
    assert "binary_tensor_data" in client.get_server_metadata()["extensions"]
    meta = client.get_model_metadata("digits")
    assert meta["inputs"][0] == {"name": "input", "datatype": "FP64", "shape": [-1, 64]}


@pytest.mark.parametrize("binary", [True, False])
@pytest.mark.parametrize("datatype", ["FP64", "FP32"])
def test_infer(
    client: triton.InferenceServerClient, registry: Registry, binary: bool, datatype: str
) -> None:
    x = registry.x[100:108]
    expected = registry.expected("digits", 1, x)
    tensor = triton.InferInput("input", list(x.shape), datatype)
    tensor.set_data_from_numpy(x.astype(np.float64 if datatype == "FP64" else np.float32), binary)

    every = client.infer("digits", [tensor], request_id=f"r-{binary}")
    np.testing.assert_array_equal(every.as_numpy("predictions"), expected)
    probabilities = every.as_numpy("probabilities")
    assert probabilities.shape == (8, 10)
    np.testing.assert_array_equal(probabilities.argmax(axis=1), expected)
    response = every.get_response()
    assert response["model_version"] == "1" and response["id"] == f"r-{binary}"

    wanted = [triton.InferRequestedOutput("predictions", binary_data=binary)]
    one = client.infer("digits", [tensor], outputs=wanted, model_version="1")
    np.testing.assert_array_equal(one.as_numpy("predictions"), expected)
    assert one.as_numpy("probabilities") is None
    sent_binary = "binary_data_size" in one.get_response()["outputs"][0].get("parameters", {})
    assert sent_binary == binary


def test_compressed_requests(client: triton.InferenceServerClient, registry: Registry) -> None:
    x = registry.x[:5]
    tensor = triton.InferInput("input", list(x.shape), "FP64")
    tensor.set_data_from_numpy(x)
    for algorithm in ("gzip", "deflate"):
        result = client.infer("digits", [tensor], request_compression_algorithm=algorithm)
        np.testing.assert_array_equal(
            result.as_numpy("predictions"), registry.expected("digits", 1, x)
        )


def test_errors_reach_the_client_with_their_message(
    client: triton.InferenceServerClient, registry: Registry
) -> None:
    narrow = triton.InferInput("input", [2, 63], "FP64")
    narrow.set_data_from_numpy(registry.x[:2, :63])
    with pytest.raises(InferenceServerException) as caught:
        client.infer("digits", [narrow])
    assert caught.value.status() == "400"
    assert "dimension 1 has size 63" in caught.value.message()

    misnamed = triton.InferInput("pixels", [2, 64], "FP64")
    misnamed.set_data_from_numpy(registry.x[:2])
    with pytest.raises(InferenceServerException, match="unknown input 'pixels'"):
        client.infer("digits", [misnamed])

    words = triton.InferInput("input", [1, 64], "BYTES")
    words.set_data_from_numpy(np.array([[b"a"] * 64], dtype=np.object_))
    with pytest.raises(InferenceServerException, match="float64"):
        client.infer("digits", [words])

    with pytest.raises(InferenceServerException, match="'mnist'"):
        client.infer("mnist", [narrow])
