"""Monitoring: drift between a reference and live data, prediction logs, feedback.

    from shipyard.monitoring import drift
    report = drift(train_df, "logs/2024-06/")  # a folder of Parquet files

Names load on first use, so ``import shipyard.monitoring`` pulls in neither
pandas, pyarrow nor SciPy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipyard.monitoring.drift_api import drift
    from shipyard.monitoring.drift_report import (
        ColumnDrift,
        DriftReport,
        Histogram,
        SchemaViolation,
    )


__all__ = [
    "ColumnDrift",
    "DriftReport",
    "Histogram",
    "MonitorReport",
    "MonitorRunner",
    "NoPredictionsError",
    "PredictionLogger",
    "SchemaViolation",
    "Window",
    "add_monitor",
    "drift",
    "feature_columns",
    "get_report",
    "list_monitors",
    "log_feedback",
    "read_prediction_logs",
    "record_feedback",
    "remove_monitor",
    "report",
    "run_monitor",
]

# public name -> the module that defines it
_LAZY = {
    "ColumnDrift": "shipyard.monitoring.drift_report",
    "DriftReport": "shipyard.monitoring.drift_report",
    "Histogram": "shipyard.monitoring.drift_report",
    "SchemaViolation": "shipyard.monitoring.drift_report",
    "drift": "shipyard.monitoring.drift_api",
    "MonitorReport": "shipyard.monitoring.reports",
    "get_report": "shipyard.monitoring.reports",
    "report": "shipyard.monitoring.report_service",
    "NoPredictionsError": "shipyard.monitoring.report_service",
    "Window": "shipyard.monitoring.windows",
    "add_monitor": "shipyard.monitoring.monitors",
    "list_monitors": "shipyard.monitoring.monitors",
    "remove_monitor": "shipyard.monitoring.monitors",
    "run_monitor": "shipyard.monitoring.monitors",
    "MonitorRunner": "shipyard.monitoring.runner",
    "log_feedback": "shipyard.monitoring.feedback",
    "record_feedback": "shipyard.monitoring.feedback",
    "PredictionLogger": "shipyard.monitoring.prediction_log",
    "read_prediction_logs": "shipyard.monitoring.prediction_log",
    "feature_columns": "shipyard.monitoring.prediction_log",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
