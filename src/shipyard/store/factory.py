"""Pick the Store and BlobStore that :class:`shipyard.config.Settings` names."""

from __future__ import annotations

from shipyard.config import Settings, resolve_settings
from shipyard.store.base import BlobStore, Store


def open_store(settings: Settings | None = None) -> Store:
    settings = settings or resolve_settings()
    if settings.kind == "rest":
        from shipyard.store.rest.store import RestStore

        return RestStore(settings.uri, token=settings.token)
    from shipyard.store.sql.store import SqlStore

    return SqlStore(settings.uri)


def open_blob_store(settings: Settings | None = None) -> BlobStore:
    settings = settings or resolve_settings()
    if settings.kind == "rest":
        from shipyard.store.rest.blobs import RestBlobStore

        return RestBlobStore(settings.uri, token=settings.token)
    from shipyard.store.artifacts import FsspecBlobStore

    assert settings.artifacts_uri is not None
    return FsspecBlobStore(settings.artifacts_uri)
