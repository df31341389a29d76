"""Closed-loop HTTP load on loopback: N connections, each sending its next request as soon as
the previous answer is in, for a fixed time. Requests per second and latency percentiles.

Two generators, the same measurement:

- ``wrk`` (Debian's package, C, epoll) when it is on PATH, with a Lua script that
  POSTs the body and prints the figures as JSON;
- otherwise a Python one: asyncio (uvloop when installed) over raw sockets with
  HTTP/1.1 keep-alive, parsing only the status line and Content-Length.

Either must outrun what it measures: :func:`trivial_server` answers a fixed
response with next to no work, so the rate against it is the generator's ceiling.

    python -m benchmarks.serving_load trivial-server PORT
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = io.open(os.getenv("LOAD_BODY_FILE"), "rb"):read()
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": %d, "non_2xx": %d, '
    .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %f}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
"""


@dataclass(frozen=True, slots=True)
class LoadResult:
    concurrency: int
    seconds: float
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    generator: str

    def to_json(self) -> dict[str, Any]:
        return {
            "concurrency": self.concurrency,
            "seconds": self.seconds,
            "requests": self.requests,
            "errors": self.errors,
            "rps": self.rps,
            "p50_ms": self.p50_ms,
            "p90_ms": self.p90_ms,
            "p99_ms": self.p99_ms,
            "generator": self.generator,
        }


def generator_name(prefer_wrk: bool = True) -> str:
    return "wrk" if prefer_wrk and shutil.which("wrk") else "python-asyncio"


def run_load(
    url: str, body: bytes, concurrency: int, seconds: float, *, prefer_wrk: bool = True
) -> LoadResult:
    """Closed-loop load on ``url`` (POST ``body`` as JSON) with ``concurrency`` connections."""
    if prefer_wrk and shutil.which("wrk"):
        return _wrk(url, body, concurrency, seconds)
    return _python(url, body, concurrency, seconds)


# -- wrk ---------------------------------------------------------------------------------
def _wrk(url: str, body: bytes, concurrency: int, seconds: float) -> LoadResult:
    with tempfile.TemporaryDirectory(prefix="shipyard-load-") as folder:
        script = Path(folder) / "post.lua"
        script.write_text(_WRK_SCRIPT)
        body_file = Path(folder) / "body.json"
        body_file.write_bytes(body)
        threads = min(2, concurrency)
        argv = [
            "wrk", f"-t{threads}", f"-c{concurrency}", f"-d{max(1, round(seconds))}s",
            "--timeout", "10s", "-s", str(script), url,
        ]  # fmt: skip
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
            env={"LOAD_BODY_FILE": str(body_file), "PATH": "/usr/bin:/bin"},
        )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    data = json.loads(lines[-1])
    elapsed = data["duration_us"] / 1e6
    return LoadResult(
        concurrency=concurrency,
        seconds=elapsed,
        requests=data["requests"],
        errors=data["errors"] + data["non_2xx"],
        rps=data["requests"] / elapsed,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        generator="wrk",
    )


# -- python ------------------------------------------------------------------------------
def _request_bytes(url: str, body: bytes) -> tuple[str, int, bytes]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    head = (
        f"POST {parts.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return host, port, head.encode() + body


async def _connection(
    host: str, port: int, request: bytes, stop_at: float, latencies: list[int], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter_ns()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter_ns() - started)
            if not head.startswith((b"HTTP/1.1 2", b"HTTP/1.0 2")):
                errors.append(1)
    finally:
        writer.close()


async def _python_load(
    url: str, body: bytes, concurrency: int, seconds: float
) -> tuple[list[int], int, float]:
    host, port, request = _request_bytes(url, body)
    latencies: list[int] = []
    errors: list[int] = []
    started = time.perf_counter()
    stop_at = started + seconds
    tasks = [
        _connection(host, port, request, stop_at, latencies, errors) for _ in range(concurrency)
    ]
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = time.perf_counter() - started
    failed = sum(1 for outcome in outcomes if isinstance(outcome, BaseException))
    return latencies, len(errors) + failed, elapsed


def _percentile(sorted_ns: list[int], q: float) -> float:
    if not sorted_ns:
        return float("nan")
    index = min(len(sorted_ns) - 1, max(0, round(q / 100 * len(sorted_ns)) - 1))
    return sorted_ns[index] / 1e6


def _python(url: str, body: bytes, concurrency: int, seconds: float) -> LoadResult:
    runner: Any = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        runner = uvloop.run
    latencies, errors, elapsed = runner(_python_load(url, body, concurrency, seconds))
    latencies.sort()
    return LoadResult(
        concurrency=concurrency,
        seconds=elapsed,
        requests=len(latencies),
        errors=errors,
        rps=len(latencies) / elapsed,
        p50_ms=_percentile(latencies, 50),
        p90_ms=_percentile(latencies, 90),
        p99_ms=_percentile(latencies, 99),
        generator="python-asyncio",
    )


# -- the trivial endpoint --------------------------------------------------------------------
_TRIVIAL_BODY = b'{"predictions": [0]}'
_TRIVIAL_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(_TRIVIAL_BODY)).encode()
    + b"\r\n\r\n"
    + _TRIVIAL_BODY
)


class _Trivial(asyncio.Protocol):
    """Answers every complete request (headers and Content-Length body) with a fixed 200."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            length = 0
            for line in self.buffer[:end].split(b"\r\n")[1:]:
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            self.transport.write(_TRIVIAL_RESPONSE)


async def _serve_trivial(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Trivial, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def trivial_server(port: int) -> None:
    runner: Any = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        runner = uvloop.run
    runner(_serve_trivial(port))


def summarize(results: list[LoadResult]) -> dict[str, float]:
    return {
        "rps": statistics.median(r.rps for r in results),
        "p50_ms": statistics.median(r.p50_ms for r in results),
        "p99_ms": statistics.median(r.p99_ms for r in results),
    }


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "trivial-server":
        trivial_server(int(sys.argv[2]))
    else:
        raise SystemExit("usage: python -m benchmarks.serving_load trivial-server PORT")
