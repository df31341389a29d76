"""``collect_garbage``: blobs of deleted versions and interrupted adds go; live ones stay."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

import shipyard as sy
from shipyard.data.gc import collect_garbage
from shipyard.errors import ShipyardError
from shipyard.store.artifacts import FsspecBlobStore
from shipyard.store.hashing import hash_bytes
from tests.data.conftest import make_tree


@pytest.fixture
def client(tmp_path: Path) -> Iterator[sy.Client]:
    with sy.Client(str(tmp_path / "store")) as c:
        yield c


def test_gc_removes_only_unreferenced_blobs(client: sy.Client, tmp_path: Path) -> None:
    blobs = client.blob_store
    assert isinstance(blobs, FsspecBlobStore)
    root = make_tree(tmp_path / "src", {"shared.txt": "in both", "old.txt": "only in v1"})
    sy.data.add(root, "ds", client=client)
    (root / "old.txt").unlink()
    (root / "new.txt").write_text("only in v2")
    sy.data.add(root, "ds", client=client)
    with client.start_run(experiment="gc", capture=False) as run:
        run.log_text("artifact", "a.txt")
    orphan, _ = blobs.put(io.BytesIO(b"left by an interrupted add"))
    v1_manifest = client.store.get_dataset_version("ds", 1).manifest_digest
    client.store.delete_dataset_version("ds", 1)

    young = collect_garbage(client.store, blobs, dry_run=True)  # default grace: 1 hour
    assert young.removed == [] and young.spared_young == 3

    plan = collect_garbage(client.store, blobs, dry_run=True, grace_seconds=0)
    expected = {orphan, v1_manifest, hash_bytes(b"only in v1")}
    assert {b.digest for b in plan.removed} == expected
    assert all(blobs.exists(d) for d in expected)  # a dry run removes nothing

    done = collect_garbage(client.store, blobs, grace_seconds=0)
    assert {b.digest for b in done.removed} == expected
    assert done.freed_bytes == sum(b.size for b in plan.removed)
    assert not any(blobs.exists(d) for d in expected)
    for kept in ("in both", "only in v2", "artifact"):
        assert blobs.exists(hash_bytes(kept.encode()))
    out = sy.data.get("datasets:/ds", tmp_path / "out", client=client)
    assert sorted(p.name for p in out.iterdir()) == ["new.txt", "shared.txt"]
    assert collect_garbage(client.store, blobs, grace_seconds=0).removed == []


def test_a_missing_live_manifest_stops_gc_before_anything_is_removed(
    client: sy.Client, tmp_path: Path
) -> None:
    blobs = client.blob_store
    assert isinstance(blobs, FsspecBlobStore)
    version = sy.data.add(make_tree(tmp_path / "src", {"a": "1"}), "ds", client=client)
    orphan, _ = blobs.put(io.BytesIO(b"orphan"))
    blobs.delete(version.manifest_digest)
    with pytest.raises(ShipyardError, match="nothing was removed"):
        collect_garbage(client.store, blobs, grace_seconds=0)
    assert blobs.exists(orphan)


def test_gc_reclaims_packed_blobs_of_deleted_versions(client: sy.Client, tmp_path: Path) -> None:
    blobs = client.blob_store
    assert isinstance(blobs, FsspecBlobStore)
    old = make_tree(tmp_path / "old", {f"f{i:03d}.bin": f"old file {i}" * 20 for i in range(100)})
    new = make_tree(tmp_path / "new", {f"f{i:03d}.bin": f"new file {i}" * 20 for i in range(100)})
    sy.data.add(old, "packed", client=client)
    sy.data.add(new, "packed", client=client)
    packs = sorted((tmp_path / "store" / "artifacts" / "packs").glob("*.pack"))
    assert len(packs) == 2, "each add of 100 small files writes one pack"
    client.store.delete_dataset_version("packed", 1)

    plan = collect_garbage(client.store, blobs, dry_run=True, grace_seconds=0)
    assert len(plan.removed) == 101  # the files and the manifest of version 1
    assert sum(1 for blob in plan.removed if blob.packed) == 100
    (manifest,) = [blob for blob in plan.removed if not blob.packed]
    assert plan.freed_bytes == manifest.size  # packed bytes are freed only by compaction
    assert all(p.exists() for p in packs)

    sizes = {p: p.stat().st_size for p in packs}
    done = collect_garbage(client.store, blobs, grace_seconds=0)
    assert len(done.removed) == 101
    (gone,) = [p for p in packs if not p.exists()]
    assert done.packs.removed_packs == 1 and done.packs.freed_bytes == sizes[gone]
    assert done.freed_bytes == manifest.size + sizes[gone]
    out = sy.data.get("datasets:/packed", tmp_path / "out", client=client)
    assert (out / "f007.bin").read_text() == "new file 7" * 20
    assert collect_garbage(client.store, blobs, grace_seconds=0).removed == []
