"""Fixtures shared by the whole suite: real databases, real folders, real servers."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.postgres import PostgresUnavailable, fresh_database, postgres_server

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test session.

    Outside CI a machine without PostgreSQL skips these tests; in CI they fail.
    """
    try:
        with postgres_server() as admin_url, fresh_database(admin_url) as url:
            yield url
    except PostgresUnavailable as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(str(exc))


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No test reads the developer's own SHIPYARD_* settings or writes into the checkout."""
    for name in list(os.environ):
        if name.startswith("SHIPYARD_") and not name.startswith("SHIPYARD_TEST_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHIPYARD_HOME", str(tmp_path_factory.mktemp("home") / ".shipyard"))
