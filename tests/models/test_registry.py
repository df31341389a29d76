"""Registering packages and loading them by ``models:/`` URIs, on SQLite and over REST."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import shipyard as sy
from shipyard.errors import InvalidInputError, NotFoundError
from shipyard.models.manifest import MANIFEST_FILE
from shipyard.store.hashing import hash_bytes
from tests.models.conftest import Backend, Digits


def test_log_model_registers_the_next_version(
    backend: Backend, digits: Digits, digits_classifier: Any, model_name: str
) -> None:
    with backend.run() as run:
        first = run.log_model(
            digits_classifier, input_example=digits.x[:2], registered_model_name=model_name
        )
        second = run.log_model(digits_classifier, name="again", registered_model_name=model_name)
    assert first.model_version is not None and second.model_version is not None
    assert (first.model_version.version, second.model_version.version) == (1, 2)
    version = first.model_version
    assert version.source == f"runs:/{run.id}/model"
    assert version.run_id == run.id
    assert version.flavor == "sklearn"
    assert version.package_digest == first.package_digest
    assert version.package_digest == hash_bytes(
        backend.client.read_artifact(run.id, f"model/{MANIFEST_FILE}")
    )

    expected = digits_classifier.predict(digits.x)
    for uri, number in [
        (f"models:/{model_name}/1", 1),
        (f"models:/{model_name}", 2),
        (f"models:/{model_name}@latest", 2),
    ]:
        model = sy.models.load(uri, client=backend.client)
        assert (model.model_name, model.model_version, model.uri) == (model_name, number, uri)
        np.testing.assert_array_equal(model.predict(digits.x), expected)


def test_register_model_and_aliases(
    backend: Backend, digits: Digits, digits_classifier: Any, model_name: str
) -> None:
    with backend.run() as run:
        info = run.log_model(digits_classifier, input_example=digits.x[:2])
    tags = {"team": "vision"}
    version = sy.register_model(
        info.uri, model_name, description="first cut", tags=tags, client=backend.client
    )
    assert (version.version, version.description, version.tags) == (1, "first cut", tags)
    backend.client.store.set_model_alias(model_name, "production", 1)

    resolved = sy.models.resolve(f"models:/{model_name}@production", client=backend.client)
    assert (resolved.name, resolved.version, resolved.run_id) == (model_name, 1, run.id)
    assert resolved.artifact_path == "model"
    assert resolved.package_digest == info.package_digest
    assert resolved.manifest == info.manifest
    assert resolved.flavor == "sklearn"
    model = sy.models.load(f"models:/{model_name}@production", client=backend.client)
    assert model.model_version == 1

    # A version registered from another model's version points at the same package.
    copy = sy.models.register_model(
        f"models:/{model_name}/1", model_name + "-copy", client=backend.client
    )
    assert (copy.source, copy.package_digest) == (version.source, version.package_digest)


def test_resolving_a_run_package(backend: Backend, digits: Digits, digits_classifier: Any) -> None:
    with backend.run() as run:
        info = run.log_model(digits_classifier, name="nested/clf", input_example=digits.x[:2])
    resolved = sy.models.resolve(f"runs:/{run.id[:10]}/nested/clf", client=backend.client)
    assert (resolved.name, resolved.version) == (None, None)
    assert (resolved.run_id, resolved.artifact_path) == (run.id, "nested/clf")
    assert resolved.source == info.uri == resolved.canonical_uri
    assert resolved.package_digest == info.package_digest


def test_missing_models_and_aliases_are_named(backend: Backend, model_name: str) -> None:
    with pytest.raises(NotFoundError):
        sy.models.load(f"models:/{model_name}", client=backend.client)
    with pytest.raises(InvalidInputError, match="not a model URI"):
        sy.models.load("digits", client=backend.client)


def test_a_bad_model_name_is_refused_before_anything_is_uploaded(
    local: Backend, digits: Digits, digits_classifier: Any
) -> None:
    with local.run() as run, pytest.raises(InvalidInputError):
        run.log_model(digits_classifier, registered_model_name="no/slashes")
    assert local.client.list_artifacts(run.id) == []
