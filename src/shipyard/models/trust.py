"""Who may load a model whose files run code when loaded (pickles).

``SHIPYARD_TRUSTED_MODELS`` holds comma-separated URI prefixes, e.g.
``models:/digits,runs:/0f3a...``. A prefix covers a URI equal to it or
continuing with ``/`` or ``@``: ``models:/digits`` covers ``models:/digits/3``
and ``models:/digits@production``, not ``models:/digits-v2``. A model is
trusted when any of its names is covered: the URI it was loaded by, its
``models:/NAME/VERSION`` form and the ``runs:/`` package it points to.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from shipyard.errors import UntrustedModelError

__all__ = ["TRUST_ENV", "is_covered", "require_trust", "trusted_prefixes"]

TRUST_ENV = "SHIPYARD_TRUSTED_MODELS"


def trusted_prefixes(env: Mapping[str, str] | None = None) -> list[str]:
    raw = (os.environ if env is None else env).get(TRUST_ENV, "")
    return [p.strip().rstrip("/") for p in raw.split(",") if p.strip().rstrip("/")]


def is_covered(uri: str, prefix: str) -> bool:
    if uri == prefix:
        return True
    return uri.startswith(prefix) and uri[len(prefix)] in "/@"


def require_trust(uri: str, names: Iterable[str], flavor: str, trust: bool) -> None:
    """Return when ``trust`` is set or a trusted prefix covers one of ``names``; otherwise
    raise :class:`UntrustedModelError` saying how to trust the model."""
    if trust:
        return
    prefixes = trusted_prefixes()
    candidates = [uri, *names]
    if any(is_covered(name, prefix) for name in candidates for prefix in prefixes):
        return
    raise UntrustedModelError(
        f"{uri} is a {flavor} model saved with pickle: loading it runs code from its files. "
        f"If you trust whoever logged it, load it with shipyard.models.load({uri!r}, "
        f"trust=True), or add its URI to {TRUST_ENV} (comma-separated prefixes), e.g. "
        f"{TRUST_ENV}={uri}"
    )
