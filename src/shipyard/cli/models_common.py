"""What the ``shipyard models`` commands share: model references, JSON shapes, downloads."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.entities import (
    MODEL_URI_SCHEME,
    AliasEvent,
    ArtifactEntry,
    Evaluation,
    ModelVersion,
    PromotionDecision,
    RegisteredModel,
)
from shipyard.errors import InvalidInputError
from shipyard.store.base import Store
from shipyard.store.rest import models_codec as codec
from shipyard.tracking.artifacts import download_entry
from shipyard.tracking.client import Client

from .output import client

if TYPE_CHECKING:
    # shipyard.models loads pandas: the commands import it when they run, not `--help`.
    from shipyard.models.uris import ModelRef

__all__ = [
    "decision_to_json",
    "download_package",
    "evaluation_to_json",
    "event_to_json",
    "model_to_json",
    "model_uri",
    "parse_model_ref",
    "store",
    "version_to_json",
]

RUN_URI_SCHEME = "runs:/"


def parse_model_ref(text: str) -> ModelRef:
    """``NAME``, ``NAME/3``, ``NAME@ALIAS``, or the same after ``models:/``."""
    from shipyard.models.uris import ModelRef, parse_model_uri

    if text.startswith(RUN_URI_SCHEME):
        raise InvalidInputError(
            f"{text} is not registered: name a model version (NAME/3, NAME@ALIAS), or "
            "register it first (shipyard models register)"
        )
    ref = parse_model_uri(text if text.startswith(MODEL_URI_SCHEME) else MODEL_URI_SCHEME + text)
    assert isinstance(ref, ModelRef)
    return ref


def model_uri(text: str) -> str:
    """A URI that ``shipyard.models.load`` takes: run URIs as they are, short forms made
    ``models:/`` URIs."""
    if text.startswith(RUN_URI_SCHEME):
        return text
    return parse_model_ref(text).uri


def store() -> Store:
    return client().store


# -- JSON shapes: the REST API's ---------------------------------------------------------
def model_to_json(model: RegisteredModel) -> dict[str, Any]:
    return codec.registered_model_to_json(model)


def version_to_json(version: ModelVersion) -> dict[str, Any]:
    data = codec.model_version_to_json(version)
    data["uri"] = version.uri
    return data


def event_to_json(event: AliasEvent) -> dict[str, Any]:
    return codec.alias_event_to_json(event)


def evaluation_to_json(evaluation: Evaluation) -> dict[str, Any]:
    return codec.evaluation_to_json(evaluation)


def decision_to_json(decision: PromotionDecision) -> dict[str, Any]:
    return codec.promotion_decision_to_json(decision)


# -- download -----------------------------------------------------------------------------
def download_package(c: Client, text: str, dest: Path) -> list[str]:
    """Write every file of the package ``text`` names into ``dest`` (created if missing);
    returns the relative paths written. The manifest is the one the version pins, and
    every file is streamed and checked against the digest it lists."""
    from shipyard.models import MANIFEST_FILE, resolve

    resolved = resolve(model_uri(text), client=c)
    entries = [
        ArtifactEntry(name, entry.size, entry.digest)
        for name, entry in resolved.package.files.items()
    ]
    manifest_size = c.blob_store.size(resolved.package_digest)
    entries.append(ArtifactEntry(MANIFEST_FILE, manifest_size, resolved.package_digest))
    dest.mkdir(parents=True, exist_ok=True)
    for entry in sorted(entries, key=lambda e: e.path):
        download_entry(c.blob_store, entry, dest)
    return sorted(entry.path for entry in entries)
