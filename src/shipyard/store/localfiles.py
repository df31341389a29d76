"""Local files: reading small ones whole in as few system calls as their size allows,
and making renames durable."""

from __future__ import annotations

import os

__all__ = ["fsync_folder", "read_fd", "read_file"]


def read_fd(fd: int, size: int) -> bytes:
    """Up to ``size`` bytes from ``fd``'s position; fewer only at the end of the file.

    One ``read`` for a regular file of (at least) that size. Reading stops at
    ``size`` without looking for more: callers compare what they got with a
    digest or with a later ``fstat``.
    """
    data = os.read(fd, size)
    if len(data) == size or not data:
        return data
    parts = [data]
    got = len(data)
    while got < size:
        chunk = os.read(fd, size - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def read_file(path: str, size: int) -> bytes:
    """Up to ``size`` bytes from the start of the file at ``path``."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return read_fd(fd, size)
    finally:
        os.close(fd)


def fsync_folder(path: str) -> None:
    """Make a rename inside ``path`` durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
