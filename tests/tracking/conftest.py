"""Each tracking test gets its own store folder (SQLite + blob folder) via SHIPYARD_URI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.entities import RunStatus
from shipyard.tracking import state


@pytest.fixture
def store_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    uri = str(tmp_path / "store")
    monkeypatch.setenv("SHIPYARD_URI", uri)
    return uri


@pytest.fixture(autouse=True)
def _no_leftover_runs() -> Iterator[None]:
    """A test that leaves a run open must not make the next test's runs its children."""
    yield
    for run in reversed(list(state._live.values())):
        run.end_quietly(RunStatus.KILLED)
    state.set_current_experiment(None)
