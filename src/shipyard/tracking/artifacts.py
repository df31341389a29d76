"""Upload a run's files to the blob store and fetch them back, verified.

Upload hashes every file first, asks the blob store which digests it lacks
and sends only those, then records the listing with ``Store.log_artifacts``.
A download writes to a temporary file beside the target, checks the BLAKE3
digest and size, and only then renames it into place.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from shipyard.entities import ArtifactEntry
from shipyard.errors import DataCorruptionError, InvalidInputError, NotFoundError
from shipyard.store.base import BlobStore, Store
from shipyard.store.hashing import hash_bytes, hash_file, new_hasher
from shipyard.validation import validate_artifact_path

__all__ = [
    "download_artifacts",
    "entries_under",
    "files_of_folder",
    "read_artifact",
    "upload_bytes",
    "upload_files",
]


def files_of_folder(folder: Path, prefix: str | None = None) -> list[tuple[Path, str]]:
    """(local file, artifact path) for every file below ``folder``, in path order."""
    if not folder.is_dir():
        raise InvalidInputError(f"{folder} is not a folder")
    found: list[tuple[Path, str]] = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            local = Path(root) / name
            if not local.is_file():
                continue
            relative = local.relative_to(folder).as_posix()
            found.append((local, f"{prefix.strip('/')}/{relative}" if prefix else relative))
    return found


def upload_files(
    store: Store, blobs: BlobStore, run_id: str, files: Sequence[tuple[Path, str]]
) -> list[ArtifactEntry]:
    """Store local files as the run's artifacts at the given artifact paths."""
    hashed: list[tuple[Path, ArtifactEntry]] = []
    for local, artifact_path in files:
        validate_artifact_path(artifact_path)
        if not local.is_file():
            raise InvalidInputError(f"{local} is not a file")
        digest, size = hash_file(local)
        hashed.append((local, ArtifactEntry(artifact_path, size, digest)))
    missing = blobs.missing({entry.digest for _, entry in hashed}) if hashed else set()
    for local, entry in hashed:
        if entry.digest in missing:
            with local.open("rb") as handle:
                blobs.put(handle, expected_digest=entry.digest)
            missing.discard(entry.digest)
    entries = [entry for _, entry in hashed]
    if entries:
        store.log_artifacts(run_id, entries)
    return entries


def upload_bytes(
    store: Store, blobs: BlobStore, run_id: str, contents: dict[str, bytes]
) -> list[ArtifactEntry]:
    """Store in-memory contents (artifact path -> bytes) as the run's artifacts."""
    entries = []
    for artifact_path, data in contents.items():
        validate_artifact_path(artifact_path)
        entries.append(ArtifactEntry(artifact_path, len(data), hash_bytes(data)))
    missing = blobs.missing({entry.digest for entry in entries}) if entries else set()
    for entry in entries:
        if entry.digest in missing:
            blobs.put(io.BytesIO(contents[entry.path]), expected_digest=entry.digest)
            missing.discard(entry.digest)
    if entries:
        store.log_artifacts(run_id, entries)
    return entries


def entries_under(store: Store, run_id: str, path: str | None) -> list[ArtifactEntry]:
    """The file at ``path`` or every file in the folder ``path`` (all files when None)."""
    if path is None or path in ("", "/"):
        return store.list_artifacts(run_id)
    path = validate_artifact_path(path.rstrip("/"))
    folder = path + "/"
    entries = [
        e
        for e in store.list_artifacts(run_id, prefix=path)
        if e.path == path or e.path.startswith(folder)
    ]
    if not entries:
        raise NotFoundError(f"run {run_id} has no artifact {path!r}")
    return entries


def _verified_chunks(blobs: BlobStore, entry: ArtifactEntry) -> Iterator[bytes]:
    hasher = new_hasher()
    size = 0
    for chunk in blobs.open(entry.digest):
        hasher.update(chunk)
        size += len(chunk)
        yield chunk
    if size != entry.size or hasher.hexdigest() != entry.digest:
        raise DataCorruptionError(
            f"artifact {entry.path!r} does not match its recorded digest and size"
        )


def read_artifact(blobs: BlobStore, entry: ArtifactEntry) -> bytes:
    return b"".join(_verified_chunks(blobs, entry))


def download_artifacts(
    store: Store, blobs: BlobStore, run_id: str, path: str | None, dest: Path
) -> Path:
    """Write the artifacts at ``path`` below ``dest`` keeping their paths; returns the target.

    The result is ``dest/<path>`` (a file or a folder), or ``dest`` for all artifacts.
    """
    entries = entries_under(store, run_id, path)
    dest.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        download_entry(blobs, entry, dest)
    return dest / path.strip("/") if path and path.strip("/") else dest


def download_entry(blobs: BlobStore, entry: ArtifactEntry, dest: Path) -> None:
    """Write one stored file to ``dest/<entry.path>``, streamed and verified, atomically."""
    # The path comes from the store (a server, perhaps not ours): it must stay inside dest,
    # also through a symbolic link already there.
    path = validate_artifact_path(entry.path, "artifact path from the store")
    target = dest.joinpath(*path.split("/"))
    root = dest.resolve()
    if not target.resolve().is_relative_to(root):
        raise InvalidInputError(f"artifact path {path!r} leads outside {str(dest)!r}")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in _verified_chunks(blobs, entry):
                handle.write(chunk)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
