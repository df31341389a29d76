"""The data the data-versioning benchmark adds: written identically into several folders.

Each tool gets its own copy of the same bytes (DVC rewrites its workspace when
it adds), generated from a seeded generator, so every run measures the same data.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

FILES_PER_FOLDER = 1000
_CHUNK = 16 * 1024 * 1024
MIN_SMALL, MAX_SMALL = 1024, 10 * 1024


def _write_all(roots: Sequence[Path], rel: str, data: bytes | memoryview) -> None:
    for root in roots:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)


def write_big(roots: Sequence[Path], files: int, total_bytes: int, seed: int = 1) -> int:
    """``files`` files of random bytes, ``total_bytes`` in all, under each root; bytes per root."""
    rng = np.random.default_rng(seed)
    each = total_bytes // files
    for index in range(files):
        rel = f"part-{index:03d}.bin"
        handles = []
        try:
            for root in roots:
                root.mkdir(parents=True, exist_ok=True)
                handles.append(open(root / rel, "wb"))  # noqa: SIM115 - closed below
            left = each
            while left:
                chunk = rng.bytes(min(_CHUNK, left))
                for handle in handles:
                    handle.write(chunk)
                left -= len(chunk)
        finally:
            for handle in handles:
                handle.close()
    return each * files


def small_name(index: int) -> str:
    return f"d{index // FILES_PER_FOLDER:03d}/f{index:06d}.bin"


def write_small(roots: Sequence[Path], files: int, seed: int = 2) -> int:
    """``files`` files of 1-10 KB of random bytes, 1,000 per subfolder; bytes per root."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(MIN_SMALL, MAX_SMALL + 1, size=files)
    blob = rng.bytes(int(sizes.sum()))
    view = memoryview(blob)
    at = 0
    for index, size in enumerate(sizes):
        _write_all(roots, small_name(index), view[at : at + int(size)])
        at += int(size)
    return at


def change_some(roots: Sequence[Path], files: int, share: float, seed: int = 3) -> int:
    """Rewrite ``share`` of the small files with new random bytes; how many were changed."""
    rng = np.random.default_rng(seed)
    count = max(1, round(files * share))
    chosen = rng.choice(files, size=count, replace=False)
    for index in sorted(int(i) for i in chosen):
        size = int(rng.integers(MIN_SMALL, MAX_SMALL + 1))
        _write_all(roots, small_name(index), rng.bytes(size))
    return count


def tree_stats(root: Path) -> tuple[int, int]:
    """(files, bytes) below ``root``: a check that a checkout wrote everything."""
    files = size = 0
    for folder, _, names in os.walk(root):
        for name in names:
            files += 1
            size += os.path.getsize(os.path.join(folder, name))
    return files, size
