"""The recorded environment against this one: major differences warn, or fail when strict."""

from __future__ import annotations

import platform
import warnings
from typing import Any

import numpy as np
import pytest

import shipyard as sy
from shipyard.errors import EnvironmentMismatchError
from shipyard.models.environment import (
    ModelEnvironmentWarning,
    check,
    compare,
    current_environment,
)
from tests.models.conftest import Backend, Digits
from tests.models.helpers import copy_package

RECORDED = {
    "python": "3.11.7",
    "packages": {
        "scikit-learn": "1.7.2",
        "numpy": "2.1.0",
        "skops": "0.12.0",
        "scipy": "1.14.1",
        "gone": "1.0",
    },
}
NOW = {
    "python": "3.11.9",
    "packages": {"scikit-learn": "2.0.1", "numpy": "2.3.0", "skops": "0.13.0", "scipy": "1.14.1"},
}


def test_compare_grades_each_difference() -> None:
    found = {d.package: (d.severity, d.breaking) for d in compare(RECORDED, NOW)}
    assert found == {
        "python": ("patch", False),
        "scikit-learn": ("major", True),
        "numpy": ("minor", False),
        "skops": ("major", True),  # 0.x: the minor is the major
        "gone": ("missing", True),
    }
    other_python = compare({"python": "3.10.4", "packages": {}}, {"python": "3.11.0"})
    assert [(d.package, d.severity) for d in other_python] == [("python", "major")]


def test_check_warns_or_raises_when_strict() -> None:
    with pytest.warns(ModelEnvironmentWarning, match=r"scikit-learn 1\.7\.2 \(saved with\)"):
        check(RECORDED, current=NOW, what="models:/x/1")
    with pytest.raises(EnvironmentMismatchError, match="models:/x/1 was saved in another"):
        check(RECORDED, strict=True, current=NOW, what="models:/x/1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check({"python": "3.11.7", "packages": {"numpy": "2.1.0"}}, current=NOW)


def test_current_environment_pins_installed_packages() -> None:
    env = current_environment(["scikit-learn", "not-a-real-package"])
    assert env["python"] == platform.python_version()
    assert env["packages"]["numpy"] == np.__version__
    assert "scikit-learn" in env["packages"]
    assert "not-a-real-package" not in env["packages"]
    assert compare(env) == []


def _with_old_sklearn(local: Backend, digits: Digits, digits_classifier: Any) -> str:
    with local.run() as run:
        run.log_model(digits_classifier, input_example=digits.x[:2])

    def pretend_old(manifest: dict[str, Any]) -> None:
        manifest["environment"]["packages"]["scikit-learn"] = "0.24.2"

    return copy_package(local.client, run.id, "old", pretend_old)


def test_loading_a_model_from_another_major_version_warns(
    local: Backend, digits: Digits, digits_classifier: Any
) -> None:
    uri = _with_old_sklearn(local, digits, digits_classifier)
    with pytest.warns(ModelEnvironmentWarning, match=r"scikit-learn 0\.24\.2"):
        model = sy.models.load(uri)
    assert [d.package for d in model.environment_differences if d.breaking] == ["scikit-learn"]
    expected = digits_classifier.predict(digits.x[:4])
    np.testing.assert_array_equal(model.predict(digits.x[:4]), expected)


def test_strict_loading_refuses_it(local: Backend, digits: Digits, digits_classifier: Any) -> None:
    uri = _with_old_sklearn(local, digits, digits_classifier)
    with pytest.raises(EnvironmentMismatchError, match=r"scikit-learn 0\.24\.2") as caught:
        sy.models.load(uri, strict=True)
    assert caught.value.http_status == 409


def test_a_model_saved_here_loads_strictly_without_warnings(
    local: Backend, digits: Digits, digits_classifier: Any
) -> None:
    with local.run() as run:
        info = run.log_model(digits_classifier)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = sy.models.load(info.uri, strict=True)
    assert model.environment_differences == []


def test_the_whole_current_environment_compares_by_canonical_names() -> None:
    import sklearn

    everything = current_environment()
    assert everything["packages"]["scikit-learn"] == sklearn.__version__
    recorded = {
        "python": platform.python_version(),
        "packages": {"Scikit_Learn": sklearn.__version__},
    }
    assert compare(recorded, everything) == []
