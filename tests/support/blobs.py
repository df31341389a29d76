"""Damaging a stored blob in place, loose or packed, as a failing disk would."""

from __future__ import annotations

import os
from pathlib import Path

from shipyard.store.artifacts import FsspecBlobStore


def corrupt_blob(blob_root: Path, digest: str) -> None:
    """Flip one byte in the middle of the blob's stored bytes (never its size)."""
    store = FsspecBlobStore(str(blob_root))
    packed = store.packed_locations([digest]).get(digest)
    if packed is not None:
        path, offset, size = Path(packed.path), packed.offset, packed.size
    else:
        local = store.local_path(digest)
        assert local is not None and os.path.isfile(local), f"blob {digest} is not stored"
        path, offset, size = Path(local), 0, os.path.getsize(local)
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[offset + size // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    os.chmod(path, 0o444)
