"""One JSON error shape for every answer that is not a success.

``{"error": {"code": "NOT_FOUND", "message": "..."}}`` with the matching HTTP
status: :class:`ShipyardError` renders itself; request validation errors and
malformed JSON become 400 ``INVALID_INPUT`` naming the field; unknown routes and
methods become 404 and 405; anything else is a bug, answered 500 ``INTERNAL``
with the traceback logged and nothing of it sent.

One exception: a browser that asks for a page the server does not have (a GET
accepting ``text/html``, outside the API's paths) gets the web UI's HTML 404
page, with links back into the UI, instead of a JSON body.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shipyard.errors import ShipyardError

__all__ = [
    "CatchAllMiddleware",
    "describe_validation_errors",
    "error_response",
    "install",
    "wants_page",
]

logger = logging.getLogger("shipyard.server")

_CODES_BY_STATUS = {
    400: "INVALID_INPUT",
    401: "UNAUTHORIZED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    416: "RANGE_NOT_SATISFIABLE",
    422: "INVALID_INPUT",
}
_MAX_DESCRIBED = 3
# First path segments of what programs call: these keep JSON errors for any client.
_MACHINE_SEGMENTS = frozenset(
    {
        "api",
        "ui",
        "v2",
        "metrics",
        "health",
        "invocations",
        "ping",
        "version",
        "static",
        "openapi.json",
        "docs",
        "redoc",
    }
)


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


def _location(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _describe_one(error: Mapping[str, Any]) -> str:
    loc = tuple(error.get("loc") or ())
    ctx = error.get("ctx") or {}
    if error.get("type") == "json_invalid":
        position = loc[1] if len(loc) > 1 else None
        where = f" at position {position}" if isinstance(position, int) else ""
        return f"malformed JSON body{where}: {ctx.get('error', 'cannot parse')}"
    message = str(error.get("msg", "is invalid"))
    message = message.removeprefix("Value error, ")
    if loc == ("body",) and error.get("type") == "missing":
        return "a JSON request body is required"
    if loc == ("body",):
        return f"request body: {message} (send a JSON object with Content-Type: application/json)"
    return f"{_location(loc)}: {message}"


def describe_validation_errors(errors: Sequence[Mapping[str, Any]]) -> str:
    """One readable line naming each field at fault (the first few of them)."""
    if not errors:
        return "invalid request"
    parts = [_describe_one(error) for error in errors[:_MAX_DESCRIBED]]
    more = len(errors) - _MAX_DESCRIBED
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


async def _shipyard_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ShipyardError)
    if exc.http_status >= 500:
        logger.error("%s %s failed: %s", request.method, request.url.path, exc.message)
    return JSONResponse(exc.to_payload(), status_code=exc.http_status)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(400, "INVALID_INPUT", describe_validation_errors(exc.errors()))


def wants_page(request: Request) -> bool:
    """A browser navigating to a page: GET or HEAD, accepting HTML, outside the API's paths."""
    if request.method not in ("GET", "HEAD"):
        return False
    if "text/html" not in request.headers.get("accept", "").lower():
        return False
    first = request.url.path.lstrip("/").split("/", 1)[0]
    return first not in _MACHINE_SEGMENTS


def _not_found_page(request: Request) -> Response:
    # Imported here: the UI's rendering imports this module for its own error pages.
    from shipyard.server.ui.rendering import error_page

    return error_page(request, 404, f"There is no page at {request.url.path}.")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status == 404 and exc.detail == "Not Found" and wants_page(request):
        return _not_found_page(request)
    code = _CODES_BY_STATUS.get(status, f"HTTP_{status}")
    if status == 404 and exc.detail == "Not Found":
        message = f"no such endpoint: {request.method} {request.url.path}"
    elif status == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    if status == 422:
        status = 400
    return error_response(status, code, message, exc.headers)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app`` (the catch-all is a middleware: see app.py)."""
    app.add_exception_handler(ShipyardError, _shipyard_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)


class CatchAllMiddleware:
    """Answer 500 INTERNAL for an unexpected exception, and log its traceback once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception:
            logger.exception("%s %s failed", scope.get("method"), scope.get("path"))
            if started:
                # Too late for a clean answer: the server drops the connection.
                raise
            response = error_response(500, "INTERNAL", "internal error")
            await response(scope, receive, send)
