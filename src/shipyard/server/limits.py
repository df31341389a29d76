"""Request body size limits, answered 413 ``PAYLOAD_TOO_LARGE`` in the JSON error shape.

JSON bodies are read whole by the API, so they get a small limit; blob uploads
stream to the blob store and get a large one. A body is refused by its
``Content-Length`` before anything is read, and otherwise as soon as the bytes
received pass the limit (chunked uploads have no length to check).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shipyard.errors import PayloadTooLargeError
from shipyard.server.errors import error_response
from shipyard.server.settings import DEFAULT_MAX_JSON_BYTES, DEFAULT_MAX_UPLOAD_BYTES, MiB

__all__ = ["DEFAULT_MAX_JSON_BYTES", "DEFAULT_MAX_UPLOAD_BYTES", "BodySizeLimitMiddleware"]

UPLOAD_PREFIX = "/api/v1/blobs/"
BATCH_UPLOAD_PATH = "/api/v1/blobs/batch"
# The rest of a refused body is read and dropped up to this much, so that the
# client, still sending, reads the 413 instead of a reset connection.
_DRAIN_LIMIT = 32 * MiB


def _human(size: int) -> str:
    for unit, factor in (("GiB", 1024 * MiB), ("MiB", MiB), ("KiB", 1024)):
        if size >= factor:
            return f"{size / factor:g} {unit}"
    return f"{size} bytes"


class BodySizeLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        max_json_bytes: int = DEFAULT_MAX_JSON_BYTES,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    ) -> None:
        self.app = app
        self.max_json_bytes = max_json_bytes
        self.max_upload_bytes = max_upload_bytes

    def limit_for(self, scope: Scope) -> int:
        path = str(scope.get("path", ""))
        if scope.get("method") == "PUT" and path.startswith(UPLOAD_PREFIX):
            return self.max_upload_bytes
        if scope.get("method") == "POST" and path == BATCH_UPLOAD_PATH:
            return self.max_upload_bytes  # the route keeps batches far smaller
        return self.max_json_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            if declared - limit <= _DRAIN_LIMIT:
                await _drain(receive)
            await _reject(scope, receive, send, limit)
            return

        received = 0
        exceeded = False
        started = False
        finished = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded, finished
            if exceeded:
                raise PayloadTooLargeError(_message(limit))
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                finished = not message.get("more_body", False)
                if received > limit:
                    exceeded = True
                    raise PayloadTooLargeError(_message(limit))
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the app's own answer to the error; ours follows
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            if not finished:
                await _drain(receive)
            await _reject(scope, receive, send, limit)


def _message(limit: int) -> str:
    return f"request body is larger than the limit of {_human(limit)}"


async def _reject(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = error_response(413, PayloadTooLargeError.code, _message(limit))
    await response(scope, receive, send)


async def _drain(receive: Receive) -> None:
    drained = 0
    while drained <= _DRAIN_LIMIT:
        message = await receive()
        if message["type"] != "http.request":
            return
        drained += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    try:
        return None if value is None else int(value)
    except ValueError:
        return None
