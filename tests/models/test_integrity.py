"""Package files are verified against the manifest: in the store and in the local cache."""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import pytest

import shipyard as sy
from shipyard.errors import DataCorruptionError, NotFoundError
from shipyard.models.cache import cache_root
from shipyard.models.manifest import MANIFEST_FILE
from shipyard.tracking import artifacts
from tests.models.conftest import Backend, Digits, ThresholdModel
from tests.models.helpers import read_manifest, write_package


def _logged(backend: Backend, digits: Digits, model: Any) -> tuple[str, dict[str, Any]]:
    with backend.run() as run:
        info = run.log_model(model, input_example=digits.x[:2])
    return info.uri, info.manifest


def test_a_tampered_file_in_the_store_is_detected(
    backend: Backend, digits: Digits, digits_classifier: Any
) -> None:
    uri, manifest = _logged(backend, digits, digits_classifier)
    backend.corrupt(manifest["files"]["model.skops"]["digest"])
    with pytest.raises(DataCorruptionError):
        sy.models.load(uri, client=backend.client)


def test_a_manifest_that_lists_other_bytes_is_detected(
    local: Backend, digits: Digits, digits_classifier: Any
) -> None:
    uri, _ = _logged(local, digits, digits_classifier)
    run_id = uri.split("/")[1]
    lying = read_manifest(local.client, run_id)
    lying["files"]["model.skops"]["size"] += 1
    raw = {f"lying/{MANIFEST_FILE}": json.dumps(lying).encode()}
    artifacts.upload_bytes(local.client.store, local.client.blob_store, run_id, raw)
    with pytest.raises(DataCorruptionError, match=r"'model\.skops' of runs:/.* does not match"):
        sy.models.load(f"runs:/{run_id}/lying")


def test_a_damaged_cache_copy_is_fetched_again(
    local: Backend, digits: Digits, digits_classifier: Any
) -> None:
    uri, manifest = _logged(local, digits, digits_classifier)
    sy.models.load(uri)
    digest = manifest["files"]["model.skops"]["digest"]
    cached = cache_root() / digest[:2] / digest
    assert cached.is_file()
    os.chmod(cached, 0o644)
    cached.write_bytes(b"not a model")
    model = sy.models.load(uri)
    np.testing.assert_array_equal(
        model.predict(digits.x[:5]), digits_classifier.predict(digits.x[:5])
    )
    assert len(cached.read_bytes()) == manifest["files"]["model.skops"]["size"]


def test_a_run_without_a_model_says_so(local: Backend) -> None:
    with local.run() as run:
        run.log_text("hello", "notes.txt")
    with pytest.raises(NotFoundError, match=f"run {run.id} has no model at 'model'"):
        sy.models.load(f"runs:/{run.id}/model")
    with pytest.raises(NotFoundError):
        sy.models.load(f"runs:/{'0' * 32}/model")


def test_a_file_its_flavor_cannot_read_is_reported(local: Backend) -> None:
    with local.run() as run:
        run.log_model(ThresholdModel(1.0), input_example=np.zeros((2, 2)))
        manifest = read_manifest(local.client, run.id)
        manifest.update(flavor="sklearn", flavor_options={"trusted_types": []}, input_example=None)
        write_package(local.client, run.id, "garbage", manifest, {"model.skops": b"not a zip"})
    with pytest.raises(DataCorruptionError, match=r"the sklearn files of runs:/\S+ do not load"):
        sy.models.load(f"runs:/{run.id}/garbage")
