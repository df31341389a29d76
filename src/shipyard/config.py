"""Where things live, read from the environment once per call.

``SHIPYARD_URI``
    ``http(s)://host:port`` for a server; ``sqlite:///path``, ``postgresql://...``
    or a plain folder path for a local store. Unset: ``$SHIPYARD_HOME``.
``SHIPYARD_HOME``
    The folder of the embedded default store; unset: ``./.shipyard`` in the
    current directory.
``SHIPYARD_ARTIFACTS``
    Where a local store keeps blobs (any fsspec URL); unset: ``<home>/artifacts``
    for a folder store, and ``./.shipyard/artifacts`` beside a database URL.
``SHIPYARD_TOKEN``
    A bearer token sent to a server.
``SHIPYARD_EXPERIMENT``
    The experiment a run goes to when none is named.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from shipyard.errors import InvalidInputError

DEFAULT_HOME = ".shipyard"
DATABASE_FILE = "shipyard.db"
ARTIFACTS_FOLDER = "artifacts"
DEFAULT_EXPERIMENT = "Default"

StoreKind = Literal["rest", "sql"]


@dataclass(frozen=True, slots=True)
class Settings:
    """What a client or the CLI connects to."""

    kind: StoreKind
    uri: str  # an http(s) URL for "rest", a SQLAlchemy URL for "sql"
    artifacts_uri: str | None  # fsspec URL of the blob store; None for "rest"
    token: str | None
    experiment: str | None


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("SHIPYARD_HOME") or DEFAULT_HOME)


# `mysql://x` or `s3://bucket` is a URL we do not serve, never a folder named `mysql:`.
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def resolve_settings(
    uri: str | None = None,
    artifacts_uri: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Turn an explicit URI (or the environment) into :class:`Settings`."""
    env = os.environ if env is None else env
    raw = uri or env.get("SHIPYARD_URI") or ""
    token = env.get("SHIPYARD_TOKEN") or None
    experiment = env.get("SHIPYARD_EXPERIMENT") or None
    artifacts = artifacts_uri or env.get("SHIPYARD_ARTIFACTS") or None
    if raw.startswith(("http://", "https://")):
        return Settings("rest", raw.rstrip("/"), None, token, experiment)
    if raw.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
        if raw.startswith("postgres:"):
            raw = "postgresql:" + raw[len("postgres:") :]
        if raw.startswith("postgresql://"):
            raw = "postgresql+psycopg://" + raw[len("postgresql://") :]
        if artifacts is None:
            artifacts = _default_artifacts_beside(raw, env)
        return Settings("sql", raw, artifacts, token, experiment)
    if _SCHEME_RE.match(raw):
        raise InvalidInputError(
            f"unknown store URL scheme in {raw!r}: expected a folder, a sqlite:/// URL, "
            "a postgresql:// URL or a server's http(s):// URL"
        )
    folder = Path(raw) if raw else _home(env)
    folder = folder.expanduser().absolute()
    return Settings(
        "sql",
        f"sqlite:///{folder / DATABASE_FILE}",
        artifacts or str(folder / ARTIFACTS_FOLDER),
        token,
        experiment,
    )


def _default_artifacts_beside(url: str, env: Mapping[str, str]) -> str:
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return str(Path(url[len("sqlite:///") :]).expanduser().absolute().parent / ARTIFACTS_FOLDER)
    return str((_home(env) / ARTIFACTS_FOLDER).expanduser().absolute())
