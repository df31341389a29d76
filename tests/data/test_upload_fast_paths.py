"""Uploads that trust the scan's digests (a local copy without a second hash, server
batches), and small files packed into pack files of a local store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shipyard.data.add import add_path, upload_blobs
from shipyard.data.checkout import checkout
from shipyard.data.placer import FilePlacer
from shipyard.data.scan import scan
from shipyard.errors import DataCorruptionError
from shipyard.store.artifacts import FsspecBlobStore
from shipyard.store.hashing import hash_bytes
from shipyard.store.packs import MAX_PACKED_BLOB
from tests.data.conftest import Backend, make_tree


def test_upload_stores_every_missing_file(backend: Backend, tmp_path: Path) -> None:
    files = {f"d{i % 3}/f{i}.bin": os.urandom(100 + i) for i in range(40)}
    root = make_tree(tmp_path / "tree", files)
    found = scan(root, use_cache=False, quiet=True)
    blobs = backend.client.blob_store
    missing = blobs.missing(found.manifest.digests())
    count, size = upload_blobs(blobs, found, missing, quiet=True)
    assert (count, size) == (len(missing), sum(len(files[e.path]) for e in found.manifest))
    for entry in found.manifest:
        assert b"".join(blobs.open(entry.digest)) == files[entry.path]


def test_a_file_changed_after_it_was_hashed_is_refused(backend: Backend, tmp_path: Path) -> None:
    root = make_tree(tmp_path / "tree", {"a.bin": os.urandom(64), "b.bin": os.urandom(64)})
    found = scan(root, use_cache=False, quiet=True)
    (root / "b.bin").write_bytes(os.urandom(64))  # same size, newer mtime
    blobs = backend.client.blob_store
    with pytest.raises(DataCorruptionError, match=r"b\.bin changed"):
        upload_blobs(blobs, found, found.manifest.digests(), quiet=True, workers=1)
    changed = next(e.digest for e in found.manifest if e.path == "b.bin")
    assert not blobs.exists(changed)


def test_many_small_files_go_into_packs_and_come_back_out(backend: Backend, tmp_path: Path) -> None:
    files = {f"d{i % 4}/f{i:03d}.bin": os.urandom(50 + i) for i in range(150)}
    files["d0/big.bin"] = os.urandom(MAX_PACKED_BLOB + 1)
    root = make_tree(tmp_path / "tree", files)
    os.chmod(root / "d1/f001.bin", 0o755)
    c = backend.client
    result = add_path(c.store, c.blob_store, root, f"packed-{backend.kind}", quiet=True)
    assert result.uploaded_files == 151
    blobs = backend.client.blob_store
    digests = sorted({hash_bytes(data) for data in files.values()})
    if backend.kind == "sqlite":  # a local folder store: small blobs packed, the big one loose
        assert isinstance(blobs, FsspecBlobStore)
        packed = blobs.packed_locations(digests)
        assert set(packed) == set(digests) - {hash_bytes(files["d0/big.bin"])}
        assert sum(1 for _ in (backend.blob_root / "packs").glob("*.pack")) >= 1
    for link in ("auto", "copy", "hardlink"):
        out = tmp_path / f"out-{link}"
        checked = checkout(blobs, result.version, out, link=link, quiet=True)  # type: ignore[arg-type]
        assert checked.written == 151
        for rel, data in files.items():
            assert (out / rel).read_bytes() == data, rel
        assert os.access(out / "d1/f001.bin", os.X_OK)  # small: copied even for "hardlink"
        assert not any(p.name.endswith(".part") for p in out.rglob("*"))


def test_a_corrupt_packed_blob_is_never_checked_out(backend: Backend, tmp_path: Path) -> None:
    files = {f"f{i:03d}.bin": os.urandom(100) for i in range(80)}
    root = make_tree(tmp_path / "tree", files)
    c = backend.client
    result = add_path(c.store, c.blob_store, root, f"corrupt-pack-{backend.kind}", quiet=True)
    victim = hash_bytes(files["f040.bin"])
    backend.corrupt(victim)
    out = tmp_path / "out"
    with pytest.raises(DataCorruptionError, match=r"f040\.bin"):
        checkout(backend.client.blob_store, result.version, out, quiet=True)
    assert not (out / "f040.bin").exists()
    assert (out / "f041.bin").read_bytes() == files["f041.bin"]


def test_a_checkout_follows_a_pack_that_gc_rewrote_meanwhile(tmp_path: Path) -> None:
    store = FsspecBlobStore(str(tmp_path / "store"))
    root = make_tree(tmp_path / "tree", {f"f{i:03d}.bin": os.urandom(200) for i in range(100)})
    found = scan(root, use_cache=False, quiet=True)
    upload_blobs(store, found, found.manifest.digests(), quiet=True)
    kept = next(e for e in found.manifest if e.path == "f042.bin")
    stale = store.packed_locations([kept.digest])
    for entry in found.manifest:
        if entry is not kept:
            store.delete(entry.digest)
    assert store.compact(grace_seconds=0).rewritten_packs == 1
    assert not os.path.exists(stale[kept.digest].path)
    out = tmp_path / "out"
    out.mkdir()
    placer = FilePlacer(store, str(out), "auto", {}, stale)
    try:
        assert placer.place(kept, lambda _: None) is True
    finally:
        placer.close()
    assert (out / "f042.bin").read_bytes() == (root / "f042.bin").read_bytes()
