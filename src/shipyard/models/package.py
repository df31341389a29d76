"""``run.log_model``: save a model with its signature, example and environment.

The flavor writes its files into a temporary folder; the package is loaded
back from there and run on the input example, which proves it loads and
gives the output signature. Then the files go up as run artifacts under
``<name>/``, the manifest last (see :mod:`shipyard.models.manifest`).
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from shipyard.entities import ModelVersion, now_ms
from shipyard.errors import InvalidInputError, SignatureError
from shipyard.models.environment import environment_for
from shipyard.models.examples import MAX_EXAMPLE_ROWS, example_to_json
from shipyard.models.flavors import detect_flavor, get_flavor, is_sklearn_estimator, normalize
from shipyard.models.inputs import Prepared, as_prepared, prepare_input
from shipyard.models.manifest import EXAMPLE_FILE, MANIFEST_FILE, FileEntry, Manifest
from shipyard.models.signature import (
    PREDICTIONS,
    PROBABILITIES,
    Signature,
    input_signature_of,
    output_spec,
    signature_of_estimator,
)
from shipyard.models.uris import run_uri
from shipyard.store.hashing import hash_bytes, hash_file
from shipyard.store.models_base import validate_model_name
from shipyard.tracking import artifacts
from shipyard.validation import validate_artifact_path

if TYPE_CHECKING:
    from shipyard.tracking.client import Client

__all__ = ["ModelInfo", "log_model"]


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A logged package: ``uri`` is ``runs:/<run-id>/<name>``; ``model_version`` is set
    when it was registered too."""

    uri: str
    run_id: str
    artifact_path: str
    flavor: str
    signature: Signature
    package_digest: str
    manifest: dict[str, Any]
    model_version: ModelVersion | None = None


def _choose_signature(
    given: Signature | None, from_flavor: Signature | None, example: Prepared | None, model: Any
) -> Signature:
    """The given signature, else the one the flavor read from the model's file (an ONNX
    graph's), else the example's, else what a fitted estimator tells of its input."""
    if given is not None:
        return given
    if from_flavor is not None:
        return from_flavor
    if example is not None:
        return input_signature_of(example)
    fallback = signature_of_estimator(model)
    if fallback is not None:
        return fallback
    raise InvalidInputError(
        "cannot tell this model's input: give input_example= (a few rows of its input) "
        "or signature="
    )


def _outputs(signature: Signature, predictions: Any, probabilities: Any) -> Signature:
    if signature.outputs or predictions is None:
        return signature
    outputs = [output_spec(PREDICTIONS, predictions)]
    if probabilities is not None:
        outputs.append(output_spec(PROBABILITIES, probabilities))
    return signature.with_outputs(tuple(outputs))


def _save(
    model: Any,
    flavor: str,
    folder: Path,
    example: Prepared | None,
    signature: Signature | None,
) -> tuple[list[str], Signature, dict[str, Any], list[str], bool]:
    """Write the package's files into ``folder``; returns (file names, signature, flavor
    options, packages to pin, whether it has predict_proba)."""
    impl = get_flavor(flavor)
    saved = impl.save(model, folder, example)
    sig = _choose_signature(signature, saved.signature, example, model)
    # Loaded back from the folder: what is uploaded is proven to load and predict.
    native = impl.load({f: folder / f for f in saved.files}, saved.options)
    files = list(saved.files)
    if example is not None:
        try:
            prepared = prepare_input(sig, example)
        except SignatureError as exc:
            raise SignatureError(f"the input example does not fit the signature: {exc}") from None
        predictions = np.asarray(native.predict(prepared))
        probabilities = None
        if native.has_predict_proba:
            probabilities = np.asarray(native.predict_proba(prepared))
        sig = _outputs(sig, predictions, probabilities)
        (folder / EXAMPLE_FILE).write_bytes(example_to_json(example))
        files.append(EXAMPLE_FILE)
    return files, sig, saved.options, saved.packages, native.has_predict_proba


def log_model(
    client: Client,
    run_id: str,
    model: Any,
    name: str = "model",
    input_example: Any = None,
    signature: Signature | None = None,
    registered_model_name: str | None = None,
    flavor: str | None = None,
) -> ModelInfo:
    """Save ``model`` as artifacts of run ``run_id`` under ``name/`` (see
    ``ActiveRun.log_model``)."""
    if not isinstance(name, str):
        raise InvalidInputError(f"model name must be a string, got {type(name).__name__}")
    path = validate_artifact_path(name.strip("/"), "model name")
    if signature is not None and not isinstance(signature, Signature):
        raise InvalidInputError(f"signature must be a Signature, got {type(signature).__name__}")
    if registered_model_name is not None:  # before anything is uploaded
        validate_model_name(registered_model_name)
    chosen = normalize(flavor) if flavor is not None else detect_flavor(model)
    if chosen == "sklearn" and not is_sklearn_estimator(model):
        raise InvalidInputError(f"the sklearn flavor takes an estimator, not a {type(model)}")
    example = None
    if input_example is not None:
        example = as_prepared(input_example)[:MAX_EXAMPLE_ROWS]
    store = client.store
    with tempfile.TemporaryDirectory(prefix="shipyard-model-") as tmp:
        folder = Path(tmp)
        files, sig, options, packages, has_proba = _save(model, chosen, folder, example, signature)
        manifest = Manifest(
            flavor=chosen,
            signature=sig,
            environment=environment_for(packages),
            files={file: FileEntry(*hash_file(folder / file)) for file in files},
            run_id=run_id,
            artifact_path=path,
            created_at=now_ms(),
            flavor_options=options,
            input_example=EXAMPLE_FILE if example is not None else None,
            datasets=[
                {"dataset": i.dataset, "version": i.version} for i in store.get_run_inputs(run_id)
            ],
            predict_proba=has_proba,
        )
        uploads = [(folder / file, f"{path}/{file}") for file in files]
        artifacts.upload_files(store, client.blob_store, run_id, uploads)
    # Last: a package whose manifest exists is whole.
    raw = manifest.to_bytes()
    artifacts.upload_bytes(store, client.blob_store, run_id, {f"{path}/{MANIFEST_FILE}": raw})
    info = ModelInfo(
        uri=run_uri(run_id, path),
        run_id=run_id,
        artifact_path=path,
        flavor=chosen,
        signature=sig,
        package_digest=hash_bytes(raw),
        manifest=manifest.to_dict(),
    )
    if registered_model_name is None:
        return info
    from shipyard.models.registry import create_version

    version = create_version(
        client, registered_model_name, info.uri, info.package_digest, run_id, chosen
    )
    return dataclasses.replace(info, model_version=version)
