"""Where served models come from: a URI resolved to one version, then loaded.

:class:`ModelSource` is the one interface the server needs of the registry;
:class:`RegistrySource` speaks to ``shipyard.models``. A URI that names an
alias (``models:/digits@production``) or the newest version (``models:/digits``)
is *followed*: the server resolves it again every few seconds and swaps in the
version it names now. ``models:/digits/3``, ``runs:/<id>/model`` and a package
folder (``/model``, as ``shipyard build`` makes) are fixed.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from shipyard.errors import EnvironmentMismatchError
from shipyard.models.predictor import Predictor
from shipyard.serving.folder import is_folder, load_folder, read_folder_manifest

if TYPE_CHECKING:
    from shipyard.tracking.client import Client

__all__ = [
    "ModelSource",
    "RegistrySource",
    "Resolved",
    "check_environment",
    "follows",
]

log = logging.getLogger("shipyard.serving")


@dataclass(frozen=True, slots=True)
class Resolved:
    """What a URI names now. ``pinned_uri`` loads exactly this version."""

    uri: str
    pinned_uri: str
    name: str | None
    version: int | None
    run_id: str | None = None
    environment: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        """Identifies the package: a new key means a new version to load."""
        return self.pinned_uri


class ModelSource(Protocol):
    def resolve(self, uri: str) -> Resolved: ...

    def load(self, resolved: Resolved) -> Predictor: ...


def follows(uri: str) -> bool:
    """Whether ``uri`` can name another version later (an alias, or the newest version)."""
    from shipyard.models.uris import ModelRef, parse_model_uri

    if is_folder(uri):
        return False
    ref = parse_model_uri(uri)
    return isinstance(ref, ModelRef) and not isinstance(ref.ref, int)


class RegistrySource:
    """Models from the store ``client`` reaches (``SHIPYARD_URI`` when None), or from a
    package folder given by its path (no store needed)."""

    def __init__(self, client: Client | None = None, *, trust: bool = False) -> None:
        self.client = client
        self.trust = trust

    def resolve(self, uri: str) -> Resolved:
        from shipyard.models import resolve

        if is_folder(uri):
            folder = Path(uri).expanduser()
            manifest = read_folder_manifest(folder)
            run_id = manifest.get("run_id")
            recorded = manifest.get("environment")
            return Resolved(
                uri,
                str(folder),
                None,
                None,
                run_id if isinstance(run_id, str) else None,
                recorded if isinstance(recorded, dict) else None,
            )
        found = resolve(uri, client=self.client)
        environment = found.manifest.get("environment")
        return Resolved(
            uri,
            found.canonical_uri,
            found.name,
            found.version,
            found.run_id,
            environment if isinstance(environment, dict) else None,
        )

    def load(self, resolved: Resolved) -> Predictor:
        from shipyard.models import ModelEnvironmentWarning, load

        if is_folder(resolved.uri):
            folder_model: Predictor = load_folder(Path(resolved.pinned_uri), trust=self.trust)
            return folder_model
        with warnings.catch_warnings():
            # check_environment has logged the differences already, once.
            warnings.simplefilter("ignore", ModelEnvironmentWarning)
            model: Predictor = load(resolved.pinned_uri, trust=self.trust, client=self.client)
        return model


def check_environment(resolved: Resolved, *, strict: bool) -> list[str]:
    """Differences between the model's recorded environment and this one; the breaking
    ones are logged as warnings, or with ``strict`` raise EnvironmentMismatchError."""
    if not resolved.environment:
        return []
    from shipyard.models.environment import compare

    differences = compare(resolved.environment)
    breaking = [d for d in differences if d.breaking]
    if breaking:
        listed = "; ".join(str(d) for d in breaking)
        if strict:
            raise EnvironmentMismatchError(
                f"{resolved.pinned_uri} was saved in another environment: {listed} "
                "(install the recorded versions, or serve without --strict-env)"
            )
        log.warning(
            "%s was saved in another environment: %s; predictions may differ",
            resolved.pinned_uri,
            listed,
        )
    return [str(d) for d in differences]
