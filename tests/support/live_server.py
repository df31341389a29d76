"""A real ``shipyard server`` in a subprocess on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import httpx

STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


class ServerFailedToStart(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _command(store_uri: str, artifacts_uri: str, port: int, extra: tuple[str, ...]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "shipyard",
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--store",
        store_uri,
        "--artifacts",
        artifacts_uri,
        "--no-access-log",
        *extra,
    ]


@contextlib.contextmanager
def live_server(
    store_uri: str,
    artifacts_uri: str,
    *,
    port: int | None = None,
    extra_args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """Run ``python -m shipyard server`` on 127.0.0.1 and yield its base URL.

    The server's output goes to a temporary log file, quoted in the error when
    it fails to start. On exit it gets SIGTERM, then SIGKILL after 10 s. A free
    port taken by someone else between the pick and the bind is picked again.
    """
    tries = 1 if port else 3
    for attempt in range(1, tries + 1):
        chosen = port or free_port()
        url = f"http://127.0.0.1:{chosen}"
        command = _command(store_uri, artifacts_uri, chosen, extra_args)
        with tempfile.TemporaryFile(prefix="shipyard-server-", suffix=".log") as log:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
            )
            try:
                deadline = time.monotonic() + STARTUP_TIMEOUT_S
                while not _healthy(url):
                    if process.poll() is None and time.monotonic() < deadline:
                        time.sleep(0.05)
                        continue
                    _stop(process)
                    log.seek(0)
                    output = log.read().decode(errors="replace")
                    if "address already in use" in output.lower() and attempt < tries:
                        break
                    raise ServerFailedToStart(
                        f"`{' '.join(command)}` did not become healthy at {url} "
                        f"(exit code {process.returncode}); its output:\n{output}"
                    )
                else:
                    yield url
                    return
            finally:
                _stop(process)
