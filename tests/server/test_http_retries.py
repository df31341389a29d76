"""HttpClient's retry rules, with the network swapped for an httpx transport (no patching)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from shipyard.errors import NotFoundError, ServiceUnavailableError, ShipyardError
from shipyard.store.rest.http import HttpClient, RetryPolicy

FAST = RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.002, deadline=10)


def _client(
    answers: list[Callable[[httpx.Request], httpx.Response]],
) -> tuple[HttpClient, list[str]]:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        return answers[min(len(seen), len(answers)) - 1](request)

    transport = httpx.MockTransport(handle)
    return HttpClient("http://shipyard.test", retry=FAST, transport=transport), seen


def _status(code: int) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(code, json={"ok": code < 400})


def _raise(exc: type[httpx.TransportError]) -> Callable[[httpx.Request], httpx.Response]:
    def fail(request: httpx.Request) -> httpx.Response:
        raise exc("simulated", request=request)

    return fail


def test_transient_statuses_are_retried_until_success() -> None:
    client, seen = _client([_status(503), _status(429), _status(502), _status(200)])
    assert client.request("GET", "/x").json() == {"ok": True}
    assert len(seen) == 4


def test_refused_connections_are_retried_even_for_a_plain_post() -> None:
    client, seen = _client([_raise(httpx.ConnectError), _status(201)])
    assert client.request("POST", "/x", json_body={}).status_code == 201
    assert len(seen) == 2


def test_a_lost_answer_is_retried_only_when_the_request_is_idempotent() -> None:
    client, seen = _client([_raise(httpx.ReadTimeout), _status(204)])
    with pytest.raises(ServiceUnavailableError, match="did not answer POST"):
        client.request("POST", "/x", json_body={})
    assert len(seen) == 1

    client, seen = _client([_raise(httpx.ReadTimeout), _status(204)])
    response = client.request("POST", "/x", json_body={}, headers={"Idempotency-Key": "k"})
    assert response.status_code == 204 and len(seen) == 2
    assert response.request.headers["Idempotency-Key"] == "k"


def test_a_plain_post_answered_502_is_not_repeated() -> None:
    client, seen = _client([_status(502), _status(201)])
    with pytest.raises(ShipyardError, match="HTTP 502"):
        client.request("POST", "/x", json_body={})
    assert len(seen) == 1


def test_giving_up_names_the_url_and_the_attempts() -> None:
    client, seen = _client([_status(503)])
    with pytest.raises(ServiceUnavailableError) as caught:
        client.request("GET", "/api/v1/runs/abc")
    assert len(seen) == FAST.attempts
    assert "http://shipyard.test/api/v1/runs/abc" in caught.value.message
    assert f"{FAST.attempts} attempts" in caught.value.message


def test_error_bodies_become_their_error_class_without_retry() -> None:
    def not_found(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": {"code": "NOT_FOUND", "message": "no run"}})

    client, seen = _client([not_found])
    with pytest.raises(NotFoundError, match="no run"):
        client.request("GET", "/x")
    assert len(seen) == 1


def test_token_is_sent_as_bearer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPYARD_TOKEN", "s3cret")
    client, _ = _client([_status(200)])
    assert client.request("GET", "/x").request.headers["Authorization"] == "Bearer s3cret"
