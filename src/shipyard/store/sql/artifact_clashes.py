"""A run's artifact path is either a file or a folder, never both.

``a.txt`` and ``a.txt/inner`` cannot both be downloaded into one folder, so a
batch that would make a stored file into a folder (or the reverse) is refused.
"""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa

from shipyard.errors import ConflictError
from shipyard.store.sql import tables as t

# '0' is the character after '/', so [p + "/", p + "0") holds exactly the paths under p/.
_AFTER_SLASH = chr(ord("/") + 1)
_CHUNK = 200


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def refuse_clashes(conn: sa.Connection, run_id: str, paths: Collection[str]) -> None:
    """Raise ``ConflictError`` when a path would be both a file and a folder."""
    new = set(paths)
    for path in sorted(new):
        clash = next((parent for parent in _parents(path) if parent in new), None)
        if clash is not None:
            raise ConflictError(f"artifact {clash!r} cannot be both a file and a folder")
    a = t.artifacts
    parents = sorted({parent for path in new for parent in _parents(path)})
    for start in range(0, len(parents), _CHUNK):
        chunk = parents[start : start + _CHUNK]
        found = conn.execute(
            sa.select(a.c.path).where(a.c.run_id == run_id, a.c.path.in_(chunk)).limit(1)
        ).scalar()
        if found is not None:
            raise ConflictError(f"artifact {found!r} is a file; it cannot also be a folder")
    ordered = sorted(new)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        under = sa.or_(*(sa.and_(a.c.path >= p + "/", a.c.path < p + _AFTER_SLASH) for p in chunk))
        found = conn.execute(
            sa.select(a.c.path).where(a.c.run_id == run_id, under).limit(1)
        ).scalar()
        if found is not None:
            folder = next(p for p in chunk if found.startswith(p + "/"))
            raise ConflictError(f"artifact {folder!r} is a folder (it holds {found!r})")
