"""What a server serves: its store, its artifacts and its limits.

The CLI resolves these once; with several workers it hands them to each worker
process through environment variables, read by :func:`shipyard.server.app.app_from_env`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from shipyard.config import Settings, resolve_settings
from shipyard.errors import InvalidInputError
from shipyard.store.base import BlobStore, Store

__all__ = [
    "DEFAULT_MAX_JSON_BYTES",
    "DEFAULT_MAX_UPLOAD_BYTES",
    "ENV_ARTIFACTS",
    "ENV_MAX_JSON_BYTES",
    "ENV_MAX_UPLOAD_BYTES",
    "ENV_STORE",
    "ServerSettings",
]

MiB = 1024 * 1024
# Defined here, not in server.limits, so the CLI reads them without importing the web stack.
DEFAULT_MAX_JSON_BYTES = 16 * MiB
DEFAULT_MAX_UPLOAD_BYTES = 5 * 1024 * MiB

ENV_STORE = "SHIPYARD_SERVER_STORE"
ENV_ARTIFACTS = "SHIPYARD_SERVER_ARTIFACTS"
ENV_MAX_JSON_BYTES = "SHIPYARD_SERVER_MAX_JSON_BYTES"
ENV_MAX_UPLOAD_BYTES = "SHIPYARD_SERVER_MAX_UPLOAD_BYTES"


def _int_from_env(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInputError(f"{name} must be a number of bytes, got {raw!r}") from None
    if value < 0:
        raise InvalidInputError(f"{name} must not be negative, got {value}")
    return value


@dataclass(frozen=True, slots=True)
class ServerSettings:
    store_uri: str  # a SQLAlchemy URL
    artifacts_uri: str  # an fsspec URL or folder
    max_json_bytes: int = DEFAULT_MAX_JSON_BYTES
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES

    @classmethod
    def resolve(
        cls,
        store: str | None = None,
        artifacts: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ServerSettings:
        """Resolve like the client does, but only to a local store: a server serves its own."""
        env = os.environ if env is None else env
        settings = resolve_settings(store, artifacts, env)
        if settings.kind == "rest":
            source = "--store" if store else "SHIPYARD_URI"
            raise InvalidInputError(
                f"{source} is a server URL ({settings.uri}); a server needs a local store: "
                "a folder, a sqlite:/// URL or a postgresql:// URL"
            )
        assert settings.artifacts_uri is not None
        return cls(
            store_uri=settings.uri,
            artifacts_uri=settings.artifacts_uri,
            max_json_bytes=_int_from_env(env, ENV_MAX_JSON_BYTES, DEFAULT_MAX_JSON_BYTES),
            max_upload_bytes=_int_from_env(env, ENV_MAX_UPLOAD_BYTES, DEFAULT_MAX_UPLOAD_BYTES),
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServerSettings:
        env = os.environ if env is None else env
        return cls.resolve(env.get(ENV_STORE) or None, env.get(ENV_ARTIFACTS) or None, env)

    def to_env(self) -> dict[str, str]:
        return {
            ENV_STORE: self.store_uri,
            ENV_ARTIFACTS: self.artifacts_uri,
            ENV_MAX_JSON_BYTES: str(self.max_json_bytes),
            ENV_MAX_UPLOAD_BYTES: str(self.max_upload_bytes),
        }

    def open_stores(self) -> tuple[Store, BlobStore]:
        from shipyard.store.factory import open_blob_store, open_store

        settings = Settings("sql", self.store_uri, self.artifacts_uri, None, None)
        store = open_store(settings)
        try:
            return store, open_blob_store(settings)
        except BaseException:
            store.close()
            raise
