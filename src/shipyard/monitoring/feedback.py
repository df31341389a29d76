"""Feedback: the true labels of predictions, sent later by request id.

Three ways in, one store::

    sy.monitoring.log_feedback(request_id, label, model_name="digits")   # Python
    record_feedback(client, "digits", [(request_id, label), ...])        # in-process
    POST /v2/models/digits/feedback                                      # a model server

The model server mounts :func:`create_feedback_router`; its body is one item
``{"request_id": "...", "label": 3}`` or a list of them, or
``{"items": [...]}``. A label is any JSON value but null; a list label of a
request of several rows holds one label per row. Sending a label again for a
request replaces it. :func:`shipyard.monitoring.prediction_log.read_prediction_logs`
joins the labels to the logged predictions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from shipyard.errors import InvalidInputError, NotFoundError, PayloadTooLargeError, ShipyardError
from shipyard.store.monitoring_checks import (
    MAX_FEEDBACK_ITEMS,
    check_feedback_items,
    check_model_name,
)

if TYPE_CHECKING:
    from fastapi import APIRouter

    from shipyard.tracking.client import Client

__all__ = ["create_feedback_router", "log_feedback", "parse_feedback_body", "record_feedback"]

# A body of MAX_FEEDBACK_ITEMS labels of up to a few hundred bytes each.
MAX_BODY_BYTES = 16 * 1024 * 1024


def _client(client: Client | None) -> Client:
    if client is not None:
        return client
    from shipyard.tracking.fluent import default_client

    return default_client()


def record_feedback(
    client: Client | None, model_name: str | None, items: Iterable[tuple[str, Any]]
) -> int:
    """Store (request id, label) pairs for ``model_name``; returns how many were stored.

    ``model_name`` ``None`` stores labels that match a request id of any model.
    """
    pairs = check_feedback_items(list(items))
    name = None if model_name is None else check_model_name(model_name)
    return _client(client).store.log_feedback(name, pairs)


def log_feedback(
    request_id: str,
    label: Any,
    model_name: str | None = None,
    *,
    client: Client | None = None,
) -> None:
    """Record the true ``label`` of the prediction the server answered with ``request_id``."""
    record_feedback(client, model_name, [(request_id, label)])


async def _bounded_body(request: Any) -> bytes:
    """The request body, refused (413) as soon as it passes ``MAX_BODY_BYTES``: a huge
    upload is never held in memory whole."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise PayloadTooLargeError(f"feedback body is over {MAX_BODY_BYTES} bytes, the limit")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_feedback_body(body: bytes) -> list[tuple[str, Any]]:
    """(request id, label) pairs of a feedback request body; ``InvalidInputError`` names
    what is wrong."""
    if len(body) > MAX_BODY_BYTES:
        raise InvalidInputError(
            f"feedback body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}"
        )
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise InvalidInputError(f"feedback body must be JSON: {exc}") from None
    if isinstance(data, dict) and "items" in data:
        data = data["items"]
    items = data if isinstance(data, list) else [data]
    if len(items) > MAX_FEEDBACK_ITEMS:
        raise InvalidInputError(
            f"{len(items)} feedback items at once; the limit is {MAX_FEEDBACK_ITEMS}"
        )
    pairs: list[tuple[str, Any]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or "request_id" not in item or "label" not in item:
            raise InvalidInputError(
                f"feedback item {index} must be an object with request_id and label, got "
                f"{json.dumps(item)[:100]}"
            )
        extra = sorted(set(item) - {"request_id", "label"})
        if extra:
            raise InvalidInputError(f"feedback item {index} has unknown fields: {extra}")
        pairs.append((item["request_id"], item["label"]))
    return check_feedback_items(pairs)


def create_feedback_router(
    client: Client,
    model_names: Iterable[str] | Callable[[], Iterable[str]],
    *,
    prefix: str = "/v2/models",
) -> APIRouter:
    """``POST {prefix}/{name}/feedback`` for the models a server serves.

    ``model_names`` is the names served (or a function giving them now, for a
    server whose models change); a name not among them answers 404. Answers
    ``{"recorded": n}``; errors are ``{"error": {"code", "message"}}`` with a 4xx
    status whatever the app's own error handlers are.
    """
    from fastapi import APIRouter, Request
    from fastapi.responses import JSONResponse
    from starlette.concurrency import run_in_threadpool

    router = APIRouter(prefix=prefix, tags=["feedback"])
    served = model_names if callable(model_names) else _fixed(model_names)

    async def post_feedback(model_name: str, request: Request) -> JSONResponse:
        try:
            if model_name not in set(served()):
                raise NotFoundError(f"model {model_name!r} is not served here")
            pairs = parse_feedback_body(await _bounded_body(request))
            recorded = await run_in_threadpool(record_feedback, client, model_name, pairs)
        except ShipyardError as exc:
            return JSONResponse(exc.to_payload(), status_code=exc.http_status)
        return JSONResponse({"recorded": recorded})

    # FastAPI reads the annotations to inject the request; as strings (postponed
    # annotations) they would name classes imported only inside this function.
    post_feedback.__annotations__ = {
        "model_name": str,
        "request": Request,
        "return": JSONResponse,
    }
    router.post(
        "/{model_name}/feedback",
        summary="Record true labels of earlier predictions, by request id",
        responses={
            200: {"description": '{"recorded": n}'},
            400: {"description": "Invalid body"},
            404: {"description": "Model not served here"},
        },
    )(post_feedback)
    return router


def _fixed(names: Iterable[str]) -> Callable[[], Iterable[str]]:
    frozen = frozenset(names)
    return lambda: frozen
