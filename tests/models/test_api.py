"""What ``shipyard.models`` and ``shipyard`` export for models."""

from __future__ import annotations

import subprocess
import sys

import shipyard as sy
import shipyard.models


def test_models_exports_are_present() -> None:
    assert len(set(shipyard.models.__all__)) == len(shipyard.models.__all__)
    for name in shipyard.models.__all__:
        assert hasattr(shipyard.models, name), name
    for name in ("log_model", "load", "register_model", "resolve", "LoadedModel", "Signature"):
        assert name in shipyard.models.__all__


def test_the_top_level_names_load_on_first_use() -> None:
    code = (
        "import sys, shipyard as sy; before = 'pandas' in sys.modules; "
        "sy.models.load; print(before, 'pandas' in sys.modules, "
        "sy.register_model is sy.models.register_model, callable(sy.evaluate))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "True", "True"]
    assert sy.log_model.__module__ == "shipyard.tracking.fluent"
    assert "models" in dir(sy)
