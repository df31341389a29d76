"""A model package in a local folder, served without a store.

``shipyard build`` copies a package (its files and ``shipyard-model.json``)
into a container image, whose command is ``shipyard serve /model``: this
module loads such a folder, checking every file against the manifest's
digests first, exactly as a package fetched from a store is checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shipyard.entities import MODEL_URI_SCHEME
from shipyard.errors import DataCorruptionError, InvalidInputError, NotFoundError

__all__ = ["is_folder", "load_folder", "read_folder_manifest"]

_RUNS_SCHEME = "runs:/"


def is_folder(uri: str) -> bool:
    """Whether ``uri`` is a local path rather than a ``models:/`` or ``runs:/`` URI."""
    return not uri.startswith((MODEL_URI_SCHEME, _RUNS_SCHEME)) and (
        uri.startswith(("/", "./", "../", "~")) or Path(uri).is_dir()
    )


def _manifest_bytes(folder: Path) -> bytes:
    from shipyard.models.manifest import MANIFEST_FILE

    if not folder.is_dir():
        raise NotFoundError(f"{folder} is not a folder holding a model package")
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise NotFoundError(f"{folder} holds no {MANIFEST_FILE}: it is not a model package")
    return path.read_bytes()


def read_folder_manifest(folder: Path) -> dict[str, Any]:
    """The package's manifest as a dict (for the environment check before loading)."""
    import json

    manifest = json.loads(_manifest_bytes(folder))
    if not isinstance(manifest, dict):
        raise InvalidInputError(f"the manifest in {folder} is not a JSON object")
    return manifest


def load_folder(folder: Path, *, trust: bool = False) -> Any:
    """A :class:`shipyard.models.LoadedModel` from the package in ``folder``.

    The files are checked here (they are local: nothing is fetched); loading them
    is :func:`shipyard.models.loading.load_package`'s, as for a package from a store.
    """
    from shipyard.models.flavors import get_flavor
    from shipyard.models.loading import load_package
    from shipyard.models.manifest import Manifest
    from shipyard.models.trust import require_trust
    from shipyard.store.hashing import hash_bytes, hash_file

    where = str(folder)
    raw = _manifest_bytes(folder)
    manifest = Manifest.from_bytes(raw, f"the manifest in {where}")
    if get_flavor(manifest.flavor).needs_trust:
        require_trust(where, [str(folder.resolve())], manifest.flavor, trust)
    root = folder.resolve()
    files: dict[str, Path] = {}
    for name, entry in sorted(manifest.files.items()):
        path = (root / name).resolve()
        if not path.is_relative_to(root):
            raise InvalidInputError(f"the manifest in {where} names a file outside it: {name!r}")
        if not path.is_file():
            raise NotFoundError(f"{where} lacks {name!r}, which its manifest lists")
        if hash_file(path) != (entry.digest, entry.size):
            raise DataCorruptionError(f"{name!r} in {where} does not match its manifest's digest")
        files[name] = path
    return load_package(
        manifest, files, uri=where, run_id=manifest.run_id, package_digest=hash_bytes(raw)
    )
