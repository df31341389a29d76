"""Pickles load only when trusted; skops packages only with scikit-learn/numpy/scipy types."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.base import BaseEstimator

import shipyard as sy
from shipyard.errors import InvalidInputError, UntrustedModelError
from shipyard.models.cache import cache_root
from shipyard.models.flavors.sklearn_flavor import allowed_type
from tests.models.conftest import Backend, Digits, ThresholdModel
from tests.models.helpers import copy_package, read_manifest, write_package


class HandMadeEstimator(BaseEstimator):  # type: ignore[misc]
    """An estimator from outside scikit-learn: skops cannot vouch for it."""

    def fit(self, x: Any, y: Any) -> HandMadeEstimator:
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, x: Any) -> Any:
        return np.full(len(x), self.mean_)


@pytest.fixture
def pickled(backend: Backend) -> str:
    with backend.run() as run:
        info = run.log_model(ThresholdModel(2.0), input_example=np.ones((2, 3)))
    return info.uri


def test_a_pickle_is_refused_without_trust_and_says_how(backend: Backend, pickled: str) -> None:
    with pytest.raises(UntrustedModelError) as caught:
        sy.models.load(pickled, client=backend.client)
    message = str(caught.value)
    assert f"shipyard.models.load({pickled!r}, trust=True)" in message
    assert f"SHIPYARD_TRUSTED_MODELS={pickled}" in message
    assert caught.value.http_status == 403
    # Refused before anything was fetched.
    assert not cache_root().exists() or not any(cache_root().rglob("*"))


def test_trust_true_loads_it(backend: Backend, pickled: str) -> None:
    model = sy.models.load(pickled, trust=True, client=backend.client)
    np.testing.assert_array_equal(model.predict(np.ones((2, 3))), [1, 1])


def test_a_trusted_prefix_loads_it(
    backend: Backend, pickled: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = pickled.split("/")[1]
    monkeypatch.setenv("SHIPYARD_TRUSTED_MODELS", f"models:/other, runs:/{run_id}")
    assert sy.models.load(pickled, client=backend.client).flavor == "python"
    # A prefix covers whole names only: the run id's first characters are not the run.
    monkeypatch.setenv("SHIPYARD_TRUSTED_MODELS", f"runs:/{run_id[:8]}")
    with pytest.raises(UntrustedModelError):
        sy.models.load(pickled, client=backend.client)


def test_a_trusted_model_name_covers_its_versions_and_aliases(
    backend: Backend, pickled: str, model_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = sy.register_model(pickled, model_name, client=backend.client)
    backend.client.store.set_model_alias(model_name, "production", version.version)
    monkeypatch.setenv("SHIPYARD_TRUSTED_MODELS", f"models:/{model_name}")
    for uri in (f"models:/{model_name}/1", f"models:/{model_name}@production"):
        assert sy.models.load(uri, client=backend.client).model_version == 1
    monkeypatch.setenv("SHIPYARD_TRUSTED_MODELS", f"models:/{model_name[:-1]}")
    with pytest.raises(UntrustedModelError):
        sy.models.load(f"models:/{model_name}/1", client=backend.client)


def test_skops_refuses_an_estimator_from_outside_scikit_learn(local: Backend) -> None:
    model = HandMadeEstimator().fit(np.zeros((3, 2)), [1, 2, 3])
    with local.run() as run, pytest.raises(InvalidInputError, match="flavor='python'"):
        run.log_model(model, input_example=np.zeros((2, 2)))
    with local.run() as run:
        info = run.log_model(model, flavor="python", input_example=np.zeros((2, 2)))
    assert info.flavor == "python"


def test_a_manifest_trusting_foreign_types_is_refused(
    local: Backend, digits: Digits, digits_classifier: Any
) -> None:
    with local.run() as run:
        run.log_model(digits_classifier, input_example=digits.x[:2])

        def trust_everything(manifest: dict[str, Any]) -> None:
            manifest["flavor_options"]["trusted_types"] = ["builtins.eval", "os.system"]

        uri = copy_package(local.client, run.id, "evil", trust_everything)
    with pytest.raises(UntrustedModelError, match="outside scikit-learn, numpy and scipy"):
        sy.models.load(uri, trust=True)  # trust is for pickles; it never widens skops


def test_a_skops_file_with_unlisted_types_is_refused(local: Backend, digits: Digits) -> None:
    import skops.io

    foreign = skops.io.dumps(HandMadeEstimator().fit(np.zeros((3, 2)), [1, 2, 3]))
    with local.run() as run:
        run.log_model(ThresholdModel(1.0), input_example=np.zeros((2, 2)))
        manifest = read_manifest(local.client, run.id)
        manifest.update(flavor="sklearn", flavor_options={"trusted_types": []})
        manifest["input_example"] = None
        write_package(local.client, run.id, "smuggled", manifest, {"model.skops": foreign})
    with pytest.raises(UntrustedModelError, match="holds types its manifest does not list"):
        sy.models.load(f"runs:/{run.id}/smuggled")


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("sklearn.linear_model._logistic.LogisticRegression", True),
        ("numpy.float64", True),
        ("scipy.sparse._csr.csr_matrix", True),
        ("numpy.load", False),
        ("numpy.loadtxt", False),
        ("numpy.savez_compressed", False),
        ("numpy.genfromtxt", False),
        ("numpy.fromregex", False),
        ("numpy.lib._datasource.open", False),
        ("numpy.lib._npyio_impl.load", False),
        ("sklearn.datasets.fetch_openml", False),
        ("builtins.eval", False),
        ("os.system", False),
        ("sklearnx.Evil", False),
    ],
)
def test_which_types_skops_may_trust(name: str, allowed: bool) -> None:
    assert allowed_type(name) is allowed
