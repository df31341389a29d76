"""A small HTTP client for the Shipyard server: auth, timeouts, retries, errors.

Transient failures are retried with exponential backoff and jitter, a bounded
number of times: a refused connection always (nothing reached the server);
a read timeout or a dropped connection only for idempotent requests (safe
methods, or any request carrying an ``Idempotency-Key``); and the answers
429, 502, 503 and 504. When every attempt fails the caller gets one
:class:`ServiceUnavailableError` naming the URL. Error bodies are rebuilt into
the matching :class:`ShipyardError` with :func:`error_from_payload`.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from shipyard._version import __version__
from shipyard.errors import (
    InvalidInputError,
    ServiceUnavailableError,
    error_from_payload,
)

__all__ = ["HttpClient", "RetryPolicy", "raise_for_error"]

RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Answers that mean the server did not do the work, so even a plain POST may repeat.
_NOT_PROCESSED_STATUSES = frozenset({429, 503})
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry: ``attempts`` tries within ``deadline`` seconds."""

    attempts: int = 6
    base_delay: float = 0.25
    max_delay: float = 4.0
    deadline: float = 12.0

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (0-based): half fixed, half jitter."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * 2.0**retry)
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def raise_for_error(response: httpx.Response) -> None:
    """Raise the :class:`ShipyardError` an unsuccessful response stands for."""
    if response.is_success:
        return
    try:
        payload = response.json()
    except (ValueError, httpx.ResponseNotRead):
        payload = None
    raise error_from_payload(payload, response.status_code)


def _refuse(value: object) -> object:
    raise InvalidInputError(f"cannot send a {type(value).__name__} ({value!r}) as JSON")


def _dump_json(body: Any) -> bytes:
    try:
        # allow_nan=False: JSON has no NaN; the codec sends non-finite metrics as strings.
        return json.dumps(body, allow_nan=False, separators=(",", ":"), default=_refuse).encode()
    except ValueError as exc:
        raise InvalidInputError(f"cannot send the request as JSON: {exc}") from None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


class HttpClient:
    """One connection pool to one server; safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise InvalidInputError(f"server URL {base_url!r} must start with http:// or https://")
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        token = token if token is not None else os.environ.get("SHIPYARD_TOKEN") or None
        headers = {"User-Agent": f"shipyard/{__version__}", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    # -- requests --------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send a request (retrying as the module docstring says); return a 2xx response.

        ``idempotent`` overrides the guess from the method and the Idempotency-Key
        (a search is a POST that is safe to repeat).
        """
        request = self._build(method, path, params, json_body, content, headers)
        response = self._send(request, stream=False, idempotent=idempotent)
        raise_for_error(response)
        return response

    @contextlib.contextmanager
    def stream(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[httpx.Response]:
        """Like :meth:`request`, but the body is left to read with ``iter_bytes``."""
        request = self._build(method, path, params, None, None, headers)
        response = self._send(request, stream=True, idempotent=None)
        try:
            if not response.is_success:
                response.read()
                raise_for_error(response)
            yield response
        finally:
            response.close()

    def _build(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        content: bytes | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Request:
        all_headers = dict(headers or {})
        if json_body is not None:
            content = _dump_json(json_body)
            all_headers["Content-Type"] = "application/json"
        query = {k: v for k, v in (params or {}).items() if v is not None}
        return self._client.build_request(
            method, path, params=query, content=content, headers=all_headers
        )

    def _send(
        self, request: httpx.Request, *, stream: bool, idempotent: bool | None
    ) -> httpx.Response:
        if idempotent is None:
            idempotent = (
                request.method in _IDEMPOTENT_METHODS or IDEMPOTENCY_HEADER in request.headers
            )
        started = time.monotonic()
        url = f"{self.base_url}{request.url.raw_path.decode('ascii', 'replace')}"
        reason = ""
        attempt = 0
        retry_after: float | None = None
        while True:
            attempt += 1
            try:
                response = self._client.send(request, stream=stream)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                reason = f"cannot connect ({exc or type(exc).__name__})"
            except (
                httpx.ReadTimeout,
                httpx.ReadError,
                httpx.WriteError,
                httpx.WriteTimeout,
                httpx.RemoteProtocolError,
            ) as exc:
                if not idempotent:
                    raise ServiceUnavailableError(
                        f"the Shipyard server at {url} did not answer {request.method}: "
                        f"{exc or type(exc).__name__}"
                    ) from exc
                reason = f"no answer ({exc or type(exc).__name__})"
            except httpx.UnsupportedProtocol as exc:
                raise InvalidInputError(f"cannot use the server URL {url!r}: {exc}") from exc
            except httpx.TransportError as exc:
                raise ServiceUnavailableError(
                    f"the Shipyard server at {url} cannot be reached: {exc}"
                ) from exc
            else:
                status = response.status_code
                retryable = status in (RETRY_STATUSES if idempotent else _NOT_PROCESSED_STATUSES)
                if not retryable:
                    return response
                retry_after = _retry_after(response)
                reason = f"answered HTTP {status}{self._error_message(response)}"
                response.close()
            delay = self.retry.delay(attempt - 1, retry_after)
            elapsed = time.monotonic() - started
            if attempt >= self.retry.attempts or elapsed + delay > self.retry.deadline:
                raise ServiceUnavailableError(
                    f"the Shipyard server at {url} is unavailable: {reason}; "
                    f"gave up after {attempt} attempt{'s' if attempt > 1 else ''} "
                    f"in {elapsed:.1f} s"
                )
            time.sleep(delay)
            retry_after = None

    @staticmethod
    def _error_message(response: httpx.Response) -> str:
        try:
            response.read()
            payload = response.json()
        except (ValueError, httpx.HTTPError):
            return ""  # a proxy's HTML page, say: the status says enough
        return f" ({error_from_payload(payload, response.status_code).message})"
