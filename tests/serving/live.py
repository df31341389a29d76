"""A real ``shipyard serve`` in a subprocess on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import IO

import httpx

from tests.support.live_server import free_port

STARTUP_TIMEOUT_S = 120.0


class ServeProcess:
    """``python -m shipyard serve ARGS --port P``, started at once; :meth:`wait_ready`
    returns once it answers, so that a test can do other work while it boots."""

    def __init__(self, args: list[str], env: dict[str, str], log: IO[bytes]) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.command = [sys.executable, "-m", "shipyard", "serve", *args, "--port", str(port)]
        self.log = log
        self.process = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
        )

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/v2/health/ready", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"`{' '.join(self.command)}` did not become ready (exit code "
                    f"{self.process.poll()}); its output:\n{self.output()}"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def started(args: list[str], env: dict[str, str]) -> Iterator[ServeProcess]:
    """A ServeProcess, stopped (SIGTERM, then SIGKILL) on exit."""
    with tempfile.TemporaryFile(prefix="shipyard-serve-", suffix=".log") as log:
        process = ServeProcess(args, env, log)
        try:
            yield process
        finally:
            process.stop()
