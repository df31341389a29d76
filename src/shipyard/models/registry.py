"""Registering a logged package as the next version of a named model."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING

from shipyard.entities import ModelVersion
from shipyard.models.resolve import client_or_default, registry_of, resolve
from shipyard.tracking.context import current_user

if TYPE_CHECKING:
    from shipyard.tracking.client import Client

__all__ = ["create_version", "register_model"]


def create_version(
    client: Client,
    name: str,
    source: str,
    package_digest: str,
    run_id: str | None,
    flavor: str | None,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> ModelVersion:
    # One key per call: a request retried after a lost answer creates one version, not two.
    return registry_of(client.store).create_model_version(
        name,
        source,
        package_digest,
        run_id=run_id,
        flavor=flavor,
        description=description,
        tags=tags,
        user=current_user(),
        idempotency_key=uuid.uuid4().hex,
    )


def register_model(
    source_uri: str,
    name: str,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
    client: Client | None = None,
) -> ModelVersion:
    """Register the package ``source_uri`` names (``runs:/<run-id>/model``, or another
    model's ``models:/...`` version) as the next version of model ``name``."""
    c = client_or_default(client)
    resolved = resolve(source_uri, client=c)
    return create_version(
        c,
        name,
        resolved.source,
        resolved.package_digest,
        resolved.run_id,
        resolved.flavor,
        description,
        tags,
    )
