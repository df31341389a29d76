"""Open Inference Protocol (KServe V2) over REST, with Triton's binary tensor extension.

Inputs map onto the model's signature: a tensor model takes one input named
as its signature says (``input``); a columns model takes one ``[N]`` (or
``[N, 1]``) input per column. Outputs: ``predictions`` and, for models with
``predict_proba``, ``probabilities``; the client's ``outputs`` list picks which
are computed.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from shipyard._version import __version__
from shipyard.errors import InvalidInputError, ShipyardError
from shipyard.models.predictor import Predictor
from shipyard.models.signature import PREDICTIONS, PROBABILITIES, Signature, TensorSpec
from shipyard.serving.datatypes import signature_datatype
from shipyard.serving.deployment import Deployment
from shipyard.serving.state import (
    REQUEST_ID_HEADER,
    VERSION_HEADER,
    error_response,
    now_ms,
    read_body,
    request_id,
    serving_state,
)
from shipyard.serving.v2_codec import (
    HEADER_LENGTH,
    InferInput,
    InferRequest,
    OutputTensor,
    decode_request,
    encode_response,
)

__all__ = ["EXTENSIONS", "output_specs", "router"]

EXTENSIONS = ["binary_tensor_data"]
# Bodies past this size are decoded and prepared in a worker thread, off the event loop.
_INLINE_BODY_BYTES = 256 * 1024

router = APIRouter(prefix="/v2", tags=["open inference protocol (v2)"])


def _json(payload: Any) -> Response:
    import orjson

    return Response(orjson.dumps(payload), media_type="application/json")


@router.get("/health/live", summary="Liveness")
def live() -> Response:
    return _json({"live": True})


@router.get("/health/ready", summary="Readiness: the model is loaded")
def ready() -> Response:
    return _json({"ready": True})


@router.get("", summary="Server metadata")
def server_metadata() -> Response:
    return _json({"name": "shipyard", "version": __version__, "extensions": EXTENSIONS})


def output_specs(model: Predictor) -> list[TensorSpec]:
    """The outputs a model offers, in V2 order: predictions, then probabilities."""
    signature = model.signature
    specs = [signature.output(PREDICTIONS) or TensorSpec(PREDICTIONS, "object", (-1,))]
    if model.has_predict_proba:
        specs.append(
            signature.output(PROBABILITIES) or TensorSpec(PROBABILITIES, "float64", (-1, -1))
        )
    return specs


def _tensor_metadata(spec: TensorSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "datatype": signature_datatype(spec.dtype),
        "shape": list(spec.shape),
    }


def _input_specs(signature: Signature) -> list[TensorSpec]:
    return list(signature.inputs)


def _metadata(request: Request, name: str, version: str | None) -> Response:
    state = serving_state(request)
    try:
        state.check_name(name)
        deployment = (
            state.deployment(version) if version is not None else state.router.primary.current
        )
    except ShipyardError as exc:
        return error_response(request, exc)
    model = deployment.model
    versions = [d.label for d in state.router.deployments()] if version is None else [version]
    return _json(
        {
            "name": name,
            "versions": versions,
            "platform": f"shipyard-{model.flavor}",
            "inputs": [_tensor_metadata(spec) for spec in _input_specs(model.signature)],
            "outputs": [_tensor_metadata(spec) for spec in output_specs(model)],
        }
    )


@router.get("/models/{name}", summary="Model metadata")
def model_metadata(request: Request, name: str) -> Response:
    return _metadata(request, name, None)


@router.get("/models/{name}/versions/{version}", summary="Model version metadata")
def model_version_metadata(request: Request, name: str, version: str) -> Response:
    return _metadata(request, name, version)


def _model_ready(request: Request, name: str, version: str | None) -> Response:
    state = serving_state(request)
    try:
        state.check_name(name)
        if version is not None:
            state.deployment(version)
    except ShipyardError as exc:
        return error_response(request, exc)
    return _json({"name": name, "ready": True})


@router.get("/models/{name}/ready", summary="Model readiness")
def model_ready(request: Request, name: str) -> Response:
    return _model_ready(request, name, None)


@router.get("/models/{name}/versions/{version}/ready", summary="Model version readiness")
def model_version_ready(request: Request, name: str, version: str) -> Response:
    return _model_ready(request, name, version)


def _model_input(inputs: list[InferInput], signature: Signature) -> Any:
    """The V2 input tensors as what ``Predictor.prepare`` takes for this signature."""
    expected = signature.input_names
    given = [tensor.name for tensor in inputs]
    unknown = [name for name in given if name not in expected]
    if unknown:
        raise InvalidInputError(
            f"unknown input {unknown[0]!r}: the model takes {', '.join(map(repr, expected))}"
        )
    missing = [name for name in expected if name not in given]
    if missing:
        raise InvalidInputError(f"missing input {missing[0]!r}")
    if signature.kind == "tensor":
        return inputs[0].data
    columns: dict[str, np.ndarray[Any, Any]] = {}
    rows: int | None = None
    for tensor in inputs:
        data = tensor.data
        if data.ndim == 2 and data.shape[1] == 1:
            data = data[:, 0]
        if data.ndim != 1:
            raise InvalidInputError(
                f"input {tensor.name!r} is a column: its shape must be [N] or [N, 1], "
                f"got {list(tensor.shape)}"
            )
        if rows is not None and len(data) != rows:
            raise InvalidInputError(
                f"input {tensor.name!r} has {len(data)} rows where the other inputs have {rows}"
            )
        rows = len(data)
        columns[tensor.name] = data
    return {name: columns[name] for name in expected}


def _decode_and_prepare(
    body: bytes, header_length: str | None, model: Predictor
) -> tuple[InferRequest, Any]:
    decoded = decode_request(body, header_length)
    return decoded, model.prepare(_model_input(decoded.inputs, model.signature))


def _selected(decoded: InferRequest, offered: list[TensorSpec]) -> list[tuple[str, bool]]:
    names = [spec.name for spec in offered]
    if decoded.outputs is None:
        return [(name, decoded.binary_output) for name in names]
    selected: list[tuple[str, bool]] = []
    for output in decoded.outputs:
        if output.name not in names:
            raise InvalidInputError(
                f"unknown output {output.name!r}: the model gives {', '.join(map(repr, names))}"
            )
        selected.append((output.name, output.binary))
    return selected


async def _infer(request: Request, name: str, version: str | None) -> Response:
    started = time.perf_counter()
    started_ms = now_ms()
    state = serving_state(request)
    rid: str | None = None
    headers: dict[str, str] = {}
    try:
        state.check_name(name)
        deployment: Deployment = state.deployment(version)
        headers[VERSION_HEADER] = deployment.label
        model = deployment.model
        with deployment.batcher.arriving():
            body = await read_body(request, state.max_body_bytes)
            header_length = request.headers.get(HEADER_LENGTH)
            if len(body) > _INLINE_BODY_BYTES:
                decoded, prepared = await run_in_threadpool(
                    _decode_and_prepare, body, header_length, model
                )
            else:
                decoded, prepared = _decode_and_prepare(body, header_length, model)
            rid = request_id(request, decoded.id)
            offered = output_specs(model)
            selected = _selected(decoded, offered)
        wanted = {output for output, _ in selected}
        result = await deployment.batcher.predict(
            prepared,
            predict=offered[0].name in wanted,
            proba=len(offered) > 1 and offered[1].name in wanted,
        )
    except ShipyardError as exc:
        headers[REQUEST_ID_HEADER] = rid or request_id(request)
        return error_response(request, exc, headers)
    headers[REQUEST_ID_HEADER] = rid
    arrays = {offered[0].name: result.predictions}
    if len(offered) > 1:
        arrays[offered[1].name] = result.probabilities
    tensors = []
    for output, binary in selected:
        data = arrays[output]
        assert data is not None
        tensors.append(OutputTensor(output, data, binary))
    encoded = encode_response(name, deployment.label, decoded.id, tensors)
    headers.update(encoded.headers)
    latency_ms = (time.perf_counter() - started) * 1000.0
    state.log_prediction(
        rid, started_ms, deployment, request.url.path, prepared, result, latency_ms
    )
    return Response(encoded.body, media_type=encoded.media_type, headers=headers)


@router.post("/models/{name}/infer", summary="Inference")
async def infer(request: Request, name: str) -> Response:
    return await _infer(request, name, None)


@router.post("/models/{name}/versions/{version}/infer", summary="Inference on one version")
async def infer_version(request: Request, name: str, version: str) -> Response:
    return await _infer(request, name, version)
