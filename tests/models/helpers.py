"""Crafting packages by hand: what a careless or hostile writer could store."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import shipyard as sy
from shipyard.models.manifest import MANIFEST_FILE
from shipyard.store.hashing import hash_bytes
from shipyard.tracking import artifacts


def read_manifest(client: sy.Client, run_id: str, path: str = "model") -> dict[str, Any]:
    return dict(json.loads(client.read_artifact(run_id, f"{path}/{MANIFEST_FILE}")))


def write_package(
    client: sy.Client,
    run_id: str,
    path: str,
    manifest: dict[str, Any],
    files: dict[str, bytes],
) -> None:
    """Store ``files`` and ``manifest`` (its file digests recomputed) under ``path/``."""
    manifest = {**manifest, "artifact_path": path, "run_id": run_id}
    manifest["files"] = {
        name: {"digest": hash_bytes(data), "size": len(data)} for name, data in files.items()
    }
    contents = {f"{path}/{name}": data for name, data in files.items()}
    artifacts.upload_bytes(client.store, client.blob_store, run_id, contents)
    raw = json.dumps(manifest).encode()
    artifacts.upload_bytes(
        client.store, client.blob_store, run_id, {f"{path}/{MANIFEST_FILE}": raw}
    )


def copy_package(
    client: sy.Client,
    run_id: str,
    new_path: str,
    edit: Callable[[dict[str, Any]], None],
    source_path: str = "model",
) -> str:
    """Copy the package at ``source_path`` to ``new_path`` with an edited manifest; returns
    the new package's ``runs:/`` URI."""
    manifest = read_manifest(client, run_id, source_path)
    files = {
        name: client.read_artifact(run_id, f"{source_path}/{name}") for name in manifest["files"]
    }
    edit(manifest)
    write_package(client, run_id, new_path, manifest, files)
    return f"runs:/{run_id}/{new_path}"
