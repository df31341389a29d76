"""A model package copied into a folder: from the registry, a run, or a local folder.

A package is the run artifacts under ``runs:/<run-id>/<path>``; the last of
them, ``shipyard-model.json``, lists every other file with its digest, and
each file copied is checked against it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from shipyard.entities import MODEL_URI_SCHEME
from shipyard.errors import (
    DataCorruptionError,
    InvalidInputError,
    ShipyardError,
    UntrustedModelError,
)
from shipyard.models.uris import RUN_URI_SCHEME
from shipyard.store.hashing import hash_file

if TYPE_CHECKING:
    from shipyard.tracking.client import Client

__all__ = ["MANIFEST_FILE", "ModelPackage", "fetch_package"]

MANIFEST_FILE = "shipyard-model.json"


@dataclass(frozen=True, slots=True)
class ModelPackage:
    folder: Path
    manifest: dict[str, Any]
    name: str | None
    version: int | None
    source: str


def _client(client: Client | None) -> Client:
    if client is not None:
        return client
    from shipyard.tracking.fluent import default_client

    return default_client()


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise InvalidInputError(f"{folder} holds no {MANIFEST_FILE}: it is not a model package")
    try:
        manifest = json.loads(path.read_text())
    except ValueError as exc:
        raise DataCorruptionError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict):
        raise DataCorruptionError(f"{path} does not hold a JSON object")
    return manifest


def _verify(folder: Path, manifest: dict[str, Any]) -> None:
    for relative, info in (manifest.get("files") or {}).items():
        path = folder / relative
        if not path.is_file():
            raise DataCorruptionError(f"the model package lacks {relative}, which it lists")
        digest = info.get("digest") if isinstance(info, dict) else None
        if digest is not None and hash_file(path)[0] != digest:
            raise DataCorruptionError(f"{relative} does not match the digest the package lists")


def _download(client: Client, manifest: dict[str, Any], raw: bytes, dest: Path) -> None:
    """Write the manifest's files (by digest) and the manifest itself into ``dest``."""
    for relative, info in (manifest.get("files") or {}).items():
        target = dest.joinpath(*PurePosixPath(relative).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as handle:
            for chunk in client.blob_store.open(info["digest"]):
                handle.write(chunk)
    (dest / MANIFEST_FILE).write_bytes(raw)


def _needs_trust(manifest: dict[str, Any]) -> bool:
    from shipyard.models.flavors import get_flavor

    try:
        return bool(get_flavor(str(manifest.get("flavor"))).needs_trust)
    except ShipyardError:
        return False


def fetch_package(
    uri: str, dest: Path, *, trust: bool = False, client: Client | None = None
) -> ModelPackage:
    """Copy the package ``uri`` names into ``dest`` (created) and check every file.

    A pickled model (one whose loading runs code) needs ``trust``.
    """
    name: str | None = None
    version: int | None = None
    local = Path(uri)
    if not uri.startswith((MODEL_URI_SCHEME, RUN_URI_SCHEME)):
        if not local.is_dir():
            raise InvalidInputError(
                f"{uri!r} is neither a model URI (models:/..., runs:/...) nor a package folder"
            )
        _read_manifest(local)
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copytree(local, dest, dirs_exist_ok=True)
        source = str(local.resolve())
    else:
        from shipyard.models.resolve import resolve

        c = _client(client)
        resolved = resolve(uri, client=c)
        name, version, source = resolved.name, resolved.version, resolved.source
        # The manifest's own bytes (its digest is what a version pins), not a re-dump.
        raw = b"".join(c.blob_store.open(resolved.package_digest))
        dest.mkdir(parents=True, exist_ok=True)
        _download(c, resolved.manifest, raw, dest)
    manifest = _read_manifest(dest)
    _verify(dest, manifest)
    if _needs_trust(manifest) and not trust:
        raise UntrustedModelError(
            f"{uri} is a {manifest.get('flavor')} model saved with pickle: serving it runs code "
            "from its files. If you trust whoever logged it, build with --trust"
        )
    return ModelPackage(dest, manifest, name, version, source)
