"""Start a tracking server on a free loopback port, wait until it answers, stop it after."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx

STARTUP_TIMEOUT_S = 180.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve(
    argv: Sequence[str],
    port: int,
    health_path: str,
    log_file: Path,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """Run ``argv`` (a server listening on ``port``) until the block ends; yields its base URL.

    ``env`` is the server's whole environment (default: this process's).
    """
    base_url = f"http://127.0.0.1:{port}"
    with log_file.open("wb") as log:
        # A session of its own, so stopping it also stops the workers it forks.
        process = subprocess.Popen(
            list(argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(os.environ) if env is None else env,
            start_new_session=True,
        )
        try:
            _wait_healthy(process, base_url + health_path, log_file)
            yield base_url
        finally:
            _stop(process)


def _wait_healthy(process: subprocess.Popen[bytes], url: str, log_file: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_file.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"server exited with {process.returncode}:\n{tail}")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"server did not answer {url} within {STARTUP_TIMEOUT_S:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
