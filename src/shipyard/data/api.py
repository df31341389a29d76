"""The ``sy.data`` functions: version data, fetch it, list and compare versions.

They use the process's default client (``SHIPYARD_URI``) unless given one.
Inside an active run, :func:`get` records the version as an input of the run.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

from shipyard.data.add import AddResult, add_path
from shipyard.data.checkout import LinkMode, checkout
from shipyard.data.diff import DatasetDiff, diff_versions
from shipyard.data.manifest import ManifestEntry, read_manifest
from shipyard.data.statcache import default_cache_dir
from shipyard.data.uris import parse_dataset_ref
from shipyard.entities import DatasetVersion, LifecycleStage, ViewType
from shipyard.errors import ConflictError
from shipyard.store.base import Store
from shipyard.tracking import state
from shipyard.tracking.client import Client

__all__ = [
    "add",
    "add_files",
    "diff",
    "files",
    "get",
    "resolve",
    "versions",
]

log = logging.getLogger(__name__)
MAX_WARNED_SKIPS = 10


def _client(client: Client | None) -> Client:
    if client is not None:
        return client
    from shipyard.tracking.fluent import default_client

    return default_client()


def resolve_in(store: Store, uri: str | DatasetVersion) -> DatasetVersion:
    """The version a URI (``datasets:/mnist/3``) or short form (``mnist@v1``) names."""
    if isinstance(uri, DatasetVersion):
        return uri
    ref = parse_dataset_ref(uri)
    return store.get_dataset_version(ref.name, ref.ref)


def resolve(uri: str, *, client: Client | None = None) -> DatasetVersion:
    """The version ``uri`` names: ``datasets:/NAME@TAG``, ``datasets:/NAME/N``, ``NAME``..."""
    return resolve_in(_client(client).store, uri)


def add_files(
    path: str | os.PathLike[str],
    name: str,
    message: str | None = None,
    tags: Sequence[str] | None = None,
    *,
    strict: bool = False,
    quiet: bool | None = None,
    client: Client | None = None,
) -> AddResult:
    """Like :func:`add`, with the details: created or unchanged, skipped files, uploads."""
    c = _client(client)
    return add_path(
        c.store, c.blob_store, path, name, message, tags or (), strict=strict, quiet=quiet
    )


def add(
    path: str | os.PathLike[str],
    name: str,
    message: str | None = None,
    tags: Sequence[str] | None = None,
    *,
    strict: bool = False,
    quiet: bool | None = None,
    client: Client | None = None,
) -> DatasetVersion:
    """Store a file or folder as the next version of dataset ``name``.

    Unchanged content creates no version: the latest one is returned. Files
    that cannot be stored (symlinks leaving the folder, FIFOs, unreadable
    files) are skipped with a warning, or refused with ``strict=True``.
    """
    result = add_files(path, name, message, tags, strict=strict, quiet=quiet, client=client)
    if result.scan.skipped:
        shown = ", ".join(str(s) for s in result.scan.skipped[:MAX_WARNED_SKIPS])
        warnings.warn(
            f"skipped {len(result.scan.skipped)} file(s) of {path}: {shown}",
            RuntimeWarning,
            stacklevel=2,
        )
    if not result.created:
        log.info("%s is unchanged: %s already holds this content", name, result.version.uri)
    return result.version


def default_dest(version: DatasetVersion) -> Path:
    """Where :func:`get` puts a version without ``dest``: a per-user cache folder."""
    short = version.manifest_digest[:12]
    return default_cache_dir() / "datasets" / version.dataset / f"{version.version}-{short}"


def get(
    uri: str | DatasetVersion,
    dest: str | os.PathLike[str] | None = None,
    *,
    link: LinkMode = "auto",
    quiet: bool | None = None,
    client: Client | None = None,
) -> Path:
    """Materialize a version's files (verified) in ``dest`` and return that folder.

    Without ``dest`` the files go to a cache folder, reused on the next call.
    Inside an active run the version is recorded as an input of the run.
    """
    c = _client(client)
    version = resolve_in(c.store, uri)
    if version.lifecycle_stage is LifecycleStage.DELETED:
        raise ConflictError(
            f"{version.uri} is deleted; restore it first (shipyard data restore "
            f"{version.dataset}@{version.version})"
        )
    target = Path(dest) if dest is not None else default_dest(version)
    result = checkout(c.blob_store, version, target, link=link, quiet=quiet)
    run = state.current_run()
    if run is not None:
        run.use_dataset(version)
    return result.dest


def versions(
    name: str, *, include_deleted: bool = False, client: Client | None = None
) -> list[DatasetVersion]:
    """The dataset's versions, oldest first."""
    view = ViewType.ALL if include_deleted else ViewType.ACTIVE
    return _client(client).store.list_dataset_versions(name, view)


def files(uri: str | DatasetVersion, *, client: Client | None = None) -> list[ManifestEntry]:
    """The files of a version (path, size, digest, executable), in path order."""
    c = _client(client)
    version = resolve_in(c.store, uri)
    return list(read_manifest(c.blob_store, version.manifest_digest))


def diff(
    a: str | DatasetVersion, b: str | DatasetVersion, *, client: Client | None = None
) -> DatasetDiff:
    """Files added, removed and modified from ``a`` to ``b``; table schema and row changes."""
    c = _client(client)
    return diff_versions(c.blob_store, resolve_in(c.store, a), resolve_in(c.store, b))
