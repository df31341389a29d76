"""Uploads that trust the scan's digests: a local copy without a second hash, server batches."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shipyard.data.add import upload_blobs
from shipyard.data.scan import scan
from shipyard.errors import DataCorruptionError
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
