"""One drift comparison in a fresh process, by Shipyard or by Evidently; one JSON line out.

    python benchmarks/drift_driver.py shipyard '{"reference": ..., "current": ...}'
    benchmarks/.work/evidently-venv/bin/python benchmarks/drift_driver.py evidently '{...}'

Both read the same Parquet files into pandas DataFrames with their own
pandas (not timed), then time the comparison alone: imports are done before
the clock starts. ``peak_rss_mib`` is the process's peak resident memory
(``ru_maxrss``) after the call; ``loaded_rss_mib`` the peak before it, with
the data loaded. Runs under Evidently's venv too: nothing from Shipyard is
imported at the top.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _frames(args: dict[str, Any]) -> tuple[Any, Any]:
    import pandas as pd

    return pd.read_parquet(args["reference"]), pd.read_parquet(args["current"])


def run_evidently(args: dict[str, Any]) -> dict[str, Any]:
    import evidently
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    reference, current = _frames(args)
    definition = DataDefinition(
        numerical_columns=args["numerical"], categorical_columns=args["categorical"]
    )
    loaded = _peak_mib()
    started = time.perf_counter()
    snapshot = Report([DataDriftPreset(drift_share=0.5)], include_tests=True).run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    result = snapshot.dict()
    seconds = time.perf_counter() - started
    methods: dict[str, str] = {}
    for metric in result["metrics"]:
        config = metric.get("config", {})
        if config.get("type", "").endswith("ValueDrift"):
            methods[config["column"]] = config["method"]
    drifted = []
    for test in result["tests"]:
        params = test.get("metric_config", {}).get("params", {})
        if params.get("type", "").endswith("ValueDrift") and test["status"] == "FAIL":
            drifted.append(params["column"])
    return {
        "seconds": seconds,
        "loaded_rss_mib": loaded,
        "peak_rss_mib": _peak_mib(),
        "drifted": drifted,
        "methods": methods,
        "version": evidently.__version__,
        "pandas": pd.__version__,
    }


def run_shipyard(args: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    from shipyard import __version__
    from shipyard.monitoring import drift

    if args.get("input") == "parquet":  # paths: read in batches by drift() itself
        reference, current = args["reference"], args["current"]
    else:
        reference, current = _frames(args)
    loaded = _peak_mib()
    started = time.perf_counter()
    report = drift(reference, current)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "loaded_rss_mib": loaded,
        "peak_rss_mib": _peak_mib(),
        "drifted": report.drifted_columns,
        "methods": {c.column: c.method for c in report.columns},
        "version": __version__,
        "pandas": pd.__version__,
    }


def main() -> None:
    tool, args = sys.argv[1], json.loads(sys.argv[2])
    result = run_evidently(args) if tool == "evidently" else run_shipyard(args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
