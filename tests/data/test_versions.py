"""Adding and fetching versions, on SQLite and through a live server."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

import shipyard as sy
from shipyard.data.add import add_path
from shipyard.data.manifest import FORMAT, Manifest
from shipyard.data.scan import scan
from shipyard.errors import (
    ConflictError,
    DataCorruptionError,
    InvalidInputError,
    NotFoundError,
    ShipyardError,
)
from shipyard.store.artifacts import local_blob_key
from shipyard.store.hashing import hash_bytes
from tests.data.conftest import Backend, age, make_tree


def _files(count: int, prefix: str = "f") -> dict[str, bytes | str]:
    return {f"{prefix}/{i:03d}.bin": os.urandom(200 + i) for i in range(count)}


def _add(backend: Backend, path: Path, name: str, **kwargs: object) -> sy.data.AddResult:
    c = backend.client
    return add_path(c.store, c.blob_store, path, name, **kwargs)  # type: ignore[arg-type]


def test_add_then_get_gives_back_the_same_files(
    backend: Backend, name: str, tmp_path: Path
) -> None:
    root = make_tree(tmp_path / "src", {"a.txt": "alpha", "deep/er/b.bin": b"\x00\x01" * 900})
    (root / "tool.sh").write_text("#!/bin/sh\n")
    (root / "tool.sh").chmod(0o755)
    version = sy.data.add(root, name, message="first", tags=["golden"], client=backend.client)
    assert (version.version, version.file_count, version.message) == (1, 3, "first")
    assert version.tags == ["golden"] and version.parent_version is None
    assert version.total_size == 5 + 1800 + 10
    out = sy.data.get(f"datasets:/{name}@golden", tmp_path / "out", client=backend.client)
    assert (out / "a.txt").read_text() == "alpha"
    assert (out / "deep/er/b.bin").read_bytes() == b"\x00\x01" * 900
    assert os.access(out / "tool.sh", os.X_OK) and not os.access(out / "a.txt", os.X_OK)
    assert not [p for p in out.rglob("*.part")]
    # a second checkout finds every file in place
    again = sy.data.get(f"datasets:/{name}/1", tmp_path / "out", client=backend.client)
    assert again == out
    listed = sy.data.files(f"{name}@1", client=backend.client)
    assert [e.path for e in listed] == ["a.txt", "deep/er/b.bin", "tool.sh"]


def test_get_without_dest_uses_a_reusable_cache_folder(
    backend: Backend, name: str, tmp_path: Path
) -> None:
    root = make_tree(tmp_path / "src", {"x.txt": "x"})
    sy.data.add(root, name, client=backend.client)
    first = sy.data.get(f"datasets:/{name}", client=backend.client)
    assert (first / "x.txt").read_text() == "x"
    assert sy.data.get(f"datasets:/{name}@latest", client=backend.client) == first
    assert str(first).startswith(os.environ["SHIPYARD_HOME"])


def test_unchanged_content_makes_no_new_version(
    backend: Backend, name: str, tmp_path: Path
) -> None:
    root = make_tree(tmp_path / "src", _files(10))
    first = _add(backend, root, name)
    again = _add(backend, root, name, tags=["same"])
    assert first.created and not again.created
    assert again.version.version == 1 and again.uploaded_files == 0
    assert again.scan.hashed == 0 and again.scan.cached == 10  # the stat cache answered
    assert again.version.tags == ["same"]
    assert [v.version for v in sy.data.versions(name, client=backend.client)] == [1]


def test_a_small_change_uploads_only_the_new_blobs(
    backend: Backend, name: str, tmp_path: Path
) -> None:
    root = make_tree(tmp_path / "src", _files(100))
    first = _add(backend, root, name)
    assert first.uploaded_files == 100
    (root / "f/007.bin").write_bytes(b"new content")
    (root / "f/new.bin").write_bytes(b"a brand new file")
    age(root / "f/007.bin")
    second = _add(backend, root, name, message="1% changed")
    assert second.created and second.version.version == 2 and second.version.parent_version == 1
    assert second.uploaded_files == 2
    assert second.uploaded_bytes == len(b"new content") + len(b"a brand new file")
    assert second.scan.hashed == 2 and second.scan.cached == 99
    change = sy.data.diff(f"{name}@1", f"{name}@2", client=backend.client)
    assert [e.path for e in change.added] == ["f/new.bin"]
    assert [new.path for _, new in change.modified] == ["f/007.bin"]
    assert change.removed == [] and change.unchanged == 99


def test_an_interrupted_add_leaves_no_version_and_a_retry_completes(
    backend: Backend, name: str, tmp_path: Path
) -> None:
    root = make_tree(tmp_path / "src", _files(40))
    found = scan(root, use_cache=False)
    # A folder where one blob's file must go: storing that blob fails for real
    # (like a broken disk), after other blobs were stored.
    victim = sorted(found.manifest.digests())[-1]
    obstacle = backend.blob_root / local_blob_key(victim)
    if obstacle.is_file():
        obstacle.chmod(0o644)
        obstacle.unlink()  # stored by an earlier test of the shared store: store it again
    obstacle.mkdir(parents=True)
    try:
        with pytest.raises(ShipyardError):
            _add(backend, root, name)
        with pytest.raises(NotFoundError):
            backend.client.store.get_dataset(name)
        assert not backend.client.blob_store.exists(found.manifest.digest)
        digests = found.manifest.digests()
        stored = len(digests - backend.client.blob_store.missing(digests))
        assert 0 < stored < 40
    finally:
        obstacle.rmdir()
    retry = _add(backend, root, name)
    assert retry.created and retry.version.version == 1
    assert retry.uploaded_files == 40 - stored
    out = sy.data.get(retry.version.uri, tmp_path / "out", client=backend.client)
    assert (out / "f/000.bin").read_bytes() == (root / "f/000.bin").read_bytes()


def test_a_corrupted_blob_is_reported_and_never_served(
    backend: Backend, name: str, tmp_path: Path
) -> None:
    # Several chunks: a server that finds the corruption only at the end has
    # sent most of it; the client's own hash check catches it.
    good, bad = b"good bytes" * 100, os.urandom(2_500_000)
    root = make_tree(tmp_path / "src", {"good.bin": good, "bad.bin": bad})
    version = sy.data.add(root, name, client=backend.client)
    backend.corrupt(hash_bytes(bad))
    dest = tmp_path / "out"
    (dest).mkdir()
    (dest / "bad.bin").write_bytes(b"stale file from an older checkout")
    with pytest.raises(DataCorruptionError, match=r"bad\.bin"):
        sy.data.get(version.uri, dest, client=backend.client)
    assert not (dest / "bad.bin").exists()
    assert (dest / "good.bin").read_bytes() == good
    assert [p.name for p in dest.iterdir()] == ["good.bin"]


@pytest.mark.parametrize("path", ["../escaped.txt", "/tmp/escaped.txt", "a\\..\\escaped.txt"])
def test_a_manifest_with_a_traversal_path_is_refused_on_get(
    backend: Backend, name: str, tmp_path: Path, path: str
) -> None:
    content = b"planted"
    blobs, store = backend.client.blob_store, backend.client.store
    blobs.put(io.BytesIO(content))
    entry = {"digest": hash_bytes(content), "executable": False, "path": path, "size": 7}
    data = json.dumps({"files": [entry], "format": FORMAT}, sort_keys=True).encode()
    digest, _ = blobs.put(io.BytesIO(data))
    store.create_dataset_version(name, digest, 1, 7)
    dest = tmp_path / "nested" / "out"
    with pytest.raises(DataCorruptionError, match="manifest refused"):
        sy.data.get(f"datasets:/{name}", dest, client=backend.client)
    assert not list(tmp_path.rglob("escaped.txt"))
    assert not Path("/tmp/escaped.txt").exists()


def test_get_never_writes_through_a_symlinked_folder(
    backend: Backend, name: str, tmp_path: Path
) -> None:
    root = make_tree(tmp_path / "src", {"sub/file.txt": "x"})
    sy.data.add(root, name, client=backend.client)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "sub").symlink_to(elsewhere)
    with pytest.raises(ShipyardError, match="symlink"):
        sy.data.get(f"datasets:/{name}", dest, client=backend.client)
    assert not list(elsewhere.iterdir())


def test_deleted_versions_leave_latest_and_cannot_be_fetched(
    backend: Backend, name: str, tmp_path: Path
) -> None:
    root = make_tree(tmp_path / "src", {"a": "1"})
    sy.data.add(root, name, client=backend.client)
    (root / "a").write_text("2")
    age(root)
    sy.data.add(root, name, client=backend.client)
    backend.client.store.delete_dataset_version(name, 2)
    assert sy.data.resolve(f"datasets:/{name}", client=backend.client).version == 1
    with pytest.raises(ConflictError, match="deleted"):
        sy.data.get(f"datasets:/{name}/2", tmp_path / "out", client=backend.client)


def test_lineage_is_recorded_both_ways(backend: Backend, name: str, tmp_path: Path) -> None:
    root = make_tree(tmp_path / "src", {"a": "1"})
    sy.data.add(root, name, tags=["v1"])
    (root / "b").write_text("2")
    sy.data.add(root, name)
    with sy.start_run(experiment="lineage", capture=False) as run:
        used = run.use_dataset(f"datasets:/{name}@v1")
        sy.data.get(f"datasets:/{name}@latest", tmp_path / "out")
    assert used.version == 1
    store = backend.client.store
    assert [(i.dataset, i.version) for i in store.get_run_inputs(run.id)] == [(name, 1), (name, 2)]
    assert store.get_dataset_version_runs(name, 2) == [run.id]
    with pytest.raises(ConflictError):
        run.use_dataset(f"datasets:/{name}/1")  # the run has ended


def test_diff_reports_table_schema_and_row_changes(
    backend: Backend, name: str, tmp_path: Path
) -> None:
    root = make_tree(tmp_path / "src", {"t.csv": "a,b\n1,x\n2,y\n", "notes.txt": "n"})
    sy.data.add(root, name, client=backend.client)
    (root / "t.csv").write_text("a,c\n1.5,3\n2.5,4\n3.5,5\n")
    (root / "notes.txt").unlink()
    sy.data.add(root, name, client=backend.client)
    change = sy.data.diff(f"{name}@1", f"{name}@2", client=backend.client)
    assert [e.path for e in change.removed] == ["notes.txt"]
    (table,) = change.tables
    assert (table.rows_before, table.rows_after) == (2, 3)
    assert table.columns_added == {"c": "int64"} and table.columns_removed == {"b": "string"}
    assert table.types_changed == {"a": ("int64", "double")}


def test_bad_input_is_refused_before_anything_is_stored(backend: Backend, tmp_path: Path) -> None:
    root = make_tree(tmp_path / "src", {"a": "1"})
    with pytest.raises(InvalidInputError):
        sy.data.add(root, "bad/name", client=backend.client)
    with pytest.raises(InvalidInputError):
        sy.data.add(root, "ok", tags=["123"], client=backend.client)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ShipyardError, match="nothing to add"):
        sy.data.add(empty, "ok", client=backend.client)


def test_manifest_digest_is_the_content_address(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "src", {"a": "1", "b/c": "2"})
    first = scan(root, use_cache=False).manifest
    copy = make_tree(tmp_path / "copy", {"b/c": "2", "a": "1"})
    assert scan(copy, use_cache=False).manifest.digest == first.digest
    assert Manifest.from_bytes(first.data).digest == first.digest


@pytest.mark.parametrize("size", [300_000, 3 * 1024 * 1024])
def test_an_interrupted_download_resumes_from_its_part_file(
    backend: Backend, name: str, tmp_path: Path, size: int
) -> None:
    """A large file picks up where it stopped; a small one is fetched again whole."""
    content = os.urandom(size)
    root = make_tree(tmp_path / "src", {"big.bin": content})
    sy.data.add(root, name, client=backend.client)
    dest = tmp_path / "out"
    dest.mkdir()
    partial = dest / f".big.bin.{hash_bytes(content)[:16]}.part"
    partial.write_bytes(content[: size // 3])
    sy.data.get(f"datasets:/{name}", dest, client=backend.client)
    assert (dest / "big.bin").read_bytes() == content
    assert not partial.exists()


def test_hardlinks_share_the_read_only_blob(backend: Backend, name: str, tmp_path: Path) -> None:
    root = make_tree(tmp_path / "src", {"a.bin": b"linked"})
    sy.data.add(root, name, client=backend.client)
    out = sy.data.get(f"datasets:/{name}", tmp_path / "out", link="hardlink", client=backend.client)
    st = (out / "a.bin").stat()
    assert (out / "a.bin").read_bytes() == b"linked"
    if backend.kind == "sqlite":
        assert st.st_nlink == 2 and not st.st_mode & 0o222
    else:  # nothing local to link to: a verified download
        assert st.st_nlink == 1
