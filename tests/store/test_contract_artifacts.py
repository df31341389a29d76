"""Store contract: a run's artifact listing (log, list by folder, get)."""

from __future__ import annotations

import io

import pytest

from shipyard.entities import ArtifactEntry, Run
from shipyard.errors import ConflictError, InvalidInputError, NotFoundError
from shipyard.store.base import Store
from shipyard.store.hashing import hash_bytes
from shipyard.store.rest.blobs import RestBlobStore
from shipyard.store.rest.store import RestStore

CONTENTS = ("x", "w", "doc", "old", "newer")


def digest(content: str) -> str:
    return hash_bytes(content.encode())


@pytest.fixture(autouse=True)
def _blobs_on_the_server(store: Store) -> None:
    """A server records only artifacts whose blobs it holds: upload them first."""
    if isinstance(store, RestStore):
        blobs = RestBlobStore(store.base_url)
        for content in CONTENTS:
            blobs.put(io.BytesIO(content.encode()))
        blobs.close()


def entry(path: str, content: str = "x") -> ArtifactEntry:
    return ArtifactEntry(path, len(content), digest(content))


def test_log_list_and_get(store: Store, run: Run) -> None:
    entries = [entry("model/weights.bin", "w"), entry("README.md", "doc"), entry("a/b/c.txt")]
    store.log_artifacts(run.id, entries)

    assert store.list_artifacts(run.id) == sorted(entries, key=lambda e: e.path)
    assert store.get_artifact(run.id, "README.md") == entry("README.md", "doc")


def test_prefix_lists_one_folder(store: Store, run: Run) -> None:
    store.log_artifacts(
        run.id,
        [entry("a/b/x"), entry("a/b/sub/y"), entry("a/bc"), entry("a/b_other"), entry("z")],
    )
    assert [e.path for e in store.list_artifacts(run.id, prefix="a/b")] == ["a/b/sub/y", "a/b/x"]
    assert [e.path for e in store.list_artifacts(run.id, prefix="a/b/")] == ["a/b/sub/y", "a/b/x"]
    assert [e.path for e in store.list_artifacts(run.id, prefix="A/B")] == []
    assert len(store.list_artifacts(run.id, prefix="a")) == 4
    assert store.list_artifacts(run.id, prefix="nothing/here") == []


def test_logging_a_path_again_replaces_it(store: Store, run: Run) -> None:
    store.log_artifacts(run.id, [entry("metrics.json", "old")])
    store.log_artifacts(run.id, [entry("metrics.json", "newer")])
    assert store.list_artifacts(run.id) == [entry("metrics.json", "newer")]


def test_missing_artifacts_and_runs(store: Store, run: Run) -> None:
    with pytest.raises(NotFoundError):
        store.get_artifact(run.id, "never/logged.txt")
    with pytest.raises(NotFoundError):
        store.list_artifacts("0" * 32)
    with pytest.raises(NotFoundError):
        store.log_artifacts("0" * 32, [entry("x")])


@pytest.mark.parametrize(
    "path", ["../escape", "/etc/passwd", "a/../../b", "C:/windows", "a\\b", "%2e%2e/x", "a//b"]
)
def test_unsafe_paths_are_refused(store: Store, run: Run, path: str) -> None:
    with pytest.raises(InvalidInputError):
        store.log_artifacts(run.id, [entry(path)])
    with pytest.raises(InvalidInputError):
        store.get_artifact(run.id, path)
    assert store.list_artifacts(run.id) == []


def test_bad_digests_and_sizes_are_refused(store: Store, run: Run) -> None:
    with pytest.raises(InvalidInputError):
        store.log_artifacts(run.id, [ArtifactEntry("x", 1, "not-a-digest")])
    with pytest.raises(InvalidInputError):
        store.log_artifacts(run.id, [ArtifactEntry("x", -1, digest("x"))])


def test_a_path_is_either_a_file_or_a_folder(store: Store, run: Run) -> None:
    store.log_artifacts(run.id, [entry("model.bin"), entry("plots/roc.png"), entry("a.b/c")])
    with pytest.raises(ConflictError, match=r"'model\.bin' is a file"):
        store.log_artifacts(run.id, [entry("fresh.txt"), entry("model.bin/inner")])
    with pytest.raises(ConflictError, match="'plots' is a folder"):
        store.log_artifacts(run.id, [entry("plots")])
    with pytest.raises(ConflictError, match="both a file and a folder"):
        store.log_artifacts(run.id, [entry("x/y"), entry("x/y/z")])
    # Neighbours that only share a prefix are no clash, and nothing refused was stored.
    store.log_artifacts(run.id, [entry("plots.txt"), entry("model.bin.bak"), entry("a.b0")])
    assert [e.path for e in store.list_artifacts(run.id)] == [
        "a.b/c",
        "a.b0",
        "model.bin",
        "model.bin.bak",
        "plots.txt",
        "plots/roc.png",
    ]
