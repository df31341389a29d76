"""The public API is declared once, in shipyard/__init__.py, with a sorted, complete __all__."""

from __future__ import annotations

import subprocess
import sys
import types

import shipyard


def test_all_is_sorted_and_every_name_exists() -> None:
    assert shipyard.__all__ == sorted(shipyard.__all__)
    assert len(set(shipyard.__all__)) == len(shipyard.__all__)
    for name in shipyard.__all__:
        assert hasattr(shipyard, name), name


def test_every_public_name_is_in_all() -> None:
    public = {
        name
        for name, value in vars(shipyard).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public <= set(shipyard.__all__), public - set(shipyard.__all__)


def test_the_fluent_functions_of_the_issue_are_exported() -> None:
    for name in (
        "set_experiment",
        "start_run",
        "log_param",
        "log_params",
        "log_metric",
        "log_metrics",
        "set_tag",
        "log_artifact",
        "log_artifacts",
        "get_run",
        "search_runs",
        "get_metric_history",
        "compare_runs",
        "Experiment",
        "active_run",
        "end_run",
        "download_artifacts",
    ):
        assert name in shipyard.__all__


def test_importing_shipyard_opens_no_store_and_imports_no_pandas() -> None:
    code = (
        "import sys, shipyard; "
        "print('pandas' in sys.modules, 'sqlalchemy' in sys.modules, 'httpx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "False"]


def test_data_versioning_is_exported_as_sy_data() -> None:
    assert "data" in shipyard.__all__
    for name in ("add", "get", "versions", "diff"):
        assert callable(getattr(shipyard.data, name)), name
    assert shipyard.data.__all__ == sorted(shipyard.data.__all__)
