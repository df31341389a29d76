"""From a model URI to the package it names: run, artifact folder and manifest.

``runs:/<id>/<path>`` reads ``<path>/shipyard-model.json`` from the run's
artifacts; ``models:/...`` asks the registry for the version and reads the
manifest by the digest the version pins, so a registered version always
loads the package it was registered with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.entities import ModelVersion
from shipyard.errors import DataCorruptionError, InvalidInputError, NotFoundError
from shipyard.models.manifest import MANIFEST_FILE, Manifest
from shipyard.models.uris import ModelRef, RunModelRef, parse_model_uri, run_uri
from shipyard.tracking import artifacts

if TYPE_CHECKING:
    from shipyard.store.base import BlobStore, Store
    from shipyard.store.models_base import ModelRegistryStore
    from shipyard.tracking.client import Client

__all__ = ["ResolvedModel", "client_or_default", "registry_of", "resolve"]


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """What a model URI names now. ``name`` / ``version`` are None for a ``runs:/`` URI;
    ``manifest`` is the parsed ``shipyard-model.json`` (a dict), ``package`` the same
    as a :class:`~shipyard.models.manifest.Manifest`."""

    uri: str
    name: str | None
    version: int | None
    run_id: str
    artifact_path: str
    package_digest: str
    manifest: dict[str, Any]
    package: Manifest
    model_version: ModelVersion | None = None

    @property
    def source(self) -> str:
        """The ``runs:/<run-id>/<path>`` URI of the package."""
        return run_uri(self.run_id, self.artifact_path)

    @property
    def canonical_uri(self) -> str:
        """``models:/NAME/VERSION`` for a registered version, else :attr:`source`."""
        if self.model_version is not None:
            return self.model_version.uri
        return self.source

    @property
    def flavor(self) -> str:
        return self.package.flavor


def client_or_default(client: Client | None) -> Client:
    if client is not None:
        return client
    from shipyard.tracking.fluent import default_client

    return default_client()


def registry_of(store: Store) -> ModelRegistryStore:
    from shipyard.store.models_base import ModelRegistryStore

    if not isinstance(store, ModelRegistryStore):
        raise InvalidInputError(f"{type(store).__name__} has no model registry")
    return store


def _read_blob(blobs: BlobStore, digest: str, where: str) -> bytes:
    try:
        return b"".join(blobs.open(digest))  # read whole, so the store verifies the hash
    except DataCorruptionError:
        raise DataCorruptionError(
            f"the manifest of {where} does not match its digest {digest}"
        ) from None


def _run_package(client: Client, run_id: str, path: str) -> tuple[str, str, bytes]:
    """(full run id, manifest digest, manifest bytes) of the package at ``path``."""
    full_id = client.resolve_run_id(run_id)
    try:
        entry = client.store.get_artifact(full_id, f"{path}/{MANIFEST_FILE}")
    except NotFoundError:
        raise NotFoundError(
            f"run {full_id} has no model at {path!r} (no {path}/{MANIFEST_FILE}); "
            "log one with run.log_model(model, name=...)"
        ) from None
    raw = artifacts.read_artifact(client.blob_store, entry)
    return full_id, entry.digest, raw


def resolve(uri: str, client: Client | None = None) -> ResolvedModel:
    """The package ``uri`` names now (``models:/NAME@ALIAS``, ``models:/NAME/3``,
    ``models:/NAME``, ``runs:/<run-id>/<path>``)."""
    c = client_or_default(client)
    ref = parse_model_uri(uri)
    if isinstance(ref, RunModelRef):
        run_id, digest, raw = _run_package(c, ref.run_id, ref.path)
        package = Manifest.from_bytes(raw, f"the manifest of {uri}")
        return ResolvedModel(uri, None, None, run_id, ref.path, digest, json.loads(raw), package)
    assert isinstance(ref, ModelRef)
    version = registry_of(c.store).get_model_version(ref.name, ref.ref)
    source = parse_model_uri(version.source)
    if not isinstance(source, RunModelRef):
        raise InvalidInputError(f"{version.uri} has source {version.source!r}, not a runs:/ URI")
    raw = _read_blob(c.blob_store, version.package_digest, version.uri)
    package = Manifest.from_bytes(raw, f"the manifest of {version.uri}")
    return ResolvedModel(
        uri,
        version.name,
        version.version,
        version.run_id or source.run_id,
        source.path,
        version.package_digest,
        json.loads(raw),
        package,
        version,
    )
