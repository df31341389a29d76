"""A real uvicorn server with the blob routes, which misbehaves on purpose when asked."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shipyard.server.errors import install as install_error_handlers
from shipyard.store.artifacts import FsspecBlobStore
from shipyard.store.rest.blobs import RestBlobStore
from shipyard.store.rest.http import RetryPolicy

FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05, deadline=5.0)


@dataclass
class Faults:
    """What the test server does wrong on purpose, and what it saw."""

    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)
    cut_downloads_after: int | None = None  # bytes; applies to the next download only
    unavailable: int = 0  # answer this many requests with 503


class FaultInjector:
    """ASGI middleware: records requests, answers 503 or drops a download midway."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.faults.requests.append((scope["method"], scope["path"], headers.get("range")))
        self.faults.auth.append(headers.get("authorization"))
        if self.faults.unavailable > 0:
            self.faults.unavailable -= 1
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        limit, self.faults.cut_downloads_after = self.faults.cut_downloads_after, None
        sent = 0

        async def cutting_send(message: Message) -> None:
            nonlocal sent
            if limit is not None and message["type"] == "http.response.body":
                body = message.get("body", b"")
                if sent + len(body) > limit:
                    await send({**message, "body": body[: limit - sent], "more_body": True})
                    raise ConnectionAbortedError("download cut on purpose")
                sent += len(body)
            await send(message)

        await self.app(scope, receive, cutting_send)


@dataclass
class Server:
    url: str
    root: Path
    faults: Faults
    local: FsspecBlobStore

    def client(self, token: str | None = None) -> RestBlobStore:
        return RestBlobStore(self.url, token=token, retry=FAST_RETRY)


@contextmanager
def serve_blobs(root: Path, routers: Sequence[APIRouter]) -> Iterator[Server]:
    """The blob store folder ``root`` served with ``routers`` on a free loopback port."""
    local = FsspecBlobStore(str(root))
    faults = Faults()
    app = FastAPI()
    app.state.blob_store = local
    for router in routers:
        app.include_router(router)
    install_error_handlers(app)
    app.add_middleware(FaultInjector, faults=faults)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="critical", lifespan="off")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield Server(f"http://127.0.0.1:{port}", root, faults, local)
    finally:
        uv.should_exit = True
        thread.join(10)
        sock.close()
