"""``shipyard.models.load``: resolve a URI, check, fetch, verify and load a package.

In order: the URI is resolved to a manifest (:mod:`shipyard.models.resolve`);
the recorded environment is compared with this one (a warning, or an error
with ``strict=True``); a pickled flavor needs trust (:mod:`shipyard.models.trust`);
the files are fetched into the digest-keyed cache and verified against the
manifest (:mod:`shipyard.models.cache`); then the flavor loads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.errors import DataCorruptionError, EnvironmentMismatchError, ShipyardError
from shipyard.models import environment
from shipyard.models.cache import fetch_files
from shipyard.models.examples import example_from_json
from shipyard.models.flavors import get_flavor
from shipyard.models.loaded import LoadedModel
from shipyard.models.manifest import Manifest
from shipyard.models.resolve import client_or_default, resolve
from shipyard.models.trust import require_trust

if TYPE_CHECKING:
    from shipyard.tracking.client import Client

__all__ = ["load", "load_package"]


def load(
    uri: str, *, trust: bool = False, strict: bool = False, client: Client | None = None
) -> LoadedModel:
    """Load the model ``uri`` names: ``models:/NAME@ALIAS``, ``models:/NAME/3``,
    ``models:/NAME`` (the latest version), ``runs:/<run-id>/model``.

    ``trust=True`` allows a pickled (python flavor) model; ``strict=True`` turns an
    environment warning into :class:`~shipyard.errors.EnvironmentMismatchError`.
    """
    c = client_or_default(client)
    resolved = resolve(uri, client=c)
    manifest = resolved.package
    where = resolved.canonical_uri
    differences = environment.check(manifest.environment, strict=strict, what=where)
    flavor = get_flavor(manifest.flavor)
    if flavor.needs_trust:
        names = [resolved.canonical_uri, resolved.source]
        require_trust(uri, names, manifest.flavor, trust)
    files = fetch_files(c.blob_store, manifest.files, where)
    return load_package(
        manifest,
        files,
        uri=uri,
        where=where,
        run_id=resolved.run_id,
        package_digest=resolved.package_digest,
        model_name=resolved.name,
        model_version=resolved.version,
        environment_differences=differences,
    )


def load_package(
    manifest: Manifest,
    files: Mapping[str, Path],
    *,
    uri: str,
    where: str | None = None,
    run_id: str | None = None,
    package_digest: str = "",
    model_name: str | None = None,
    model_version: int | None = None,
    environment_differences: list[environment.EnvironmentDifference] | None = None,
) -> LoadedModel:
    """A :class:`LoadedModel` from package files already verified on disk (name -> path).
    Trust and the environment are the caller's to check first, as :func:`load` does."""
    where = where or uri
    flavor = get_flavor(manifest.flavor)
    try:
        native = flavor.load(files, manifest.flavor_options)
    except ShipyardError:
        raise
    except ImportError as exc:
        raise EnvironmentMismatchError(
            f"loading {where} ({manifest.flavor} model) needs {exc.name or exc}, which is "
            "not installed here"
        ) from None
    except Exception as exc:  # each flavor's library fails in its own way on a bad file
        raise DataCorruptionError(
            f"the {manifest.flavor} files of {where} do not load: {type(exc).__name__}: {exc}"
        ) from None
    example = None
    if manifest.input_example is not None:
        example = example_from_json(files[manifest.input_example].read_bytes())
    return LoadedModel(
        uri=uri,
        manifest=manifest,
        native=native,
        run_id=run_id,
        package_digest=package_digest,
        model_name=model_name,
        model_version=model_version,
        input_example=example,
        environment_differences=environment_differences,
    )
