"""Measure the runs table's load time in a real browser with many runs (not a test).

    python -m tests.ui.measure_runs_table [--runs 10000] [--loads 5]

Seeds one experiment with ``--runs`` runs (4 params, 3 metrics each) in a
temporary SQLite store, starts ``shipyard server`` on it and loads the runs
table in headless Chromium: default order, sorted by a metric, filtered and
sorted, and a later page. It prints the median over ``--loads`` loads of the
time from navigation start to the table being in the DOM (``domInteractive``:
the whole server-rendered document is parsed) and to the first contentful
paint. ``--folder`` keeps the seeded store there for the next measurement.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from shipyard.entities import Metric, Param, RunStatus
from shipyard.store.sql.store import SqlStore
from tests.support.live_server import live_server
from tests.ui.browser import launch

_TIMING = """() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const paint = performance.getEntriesByName("first-contentful-paint")[0];
    return {
        response: nav.responseEnd,
        table: nav.domInteractive,
        paint: paint ? paint.startTime : null,
        rows: document.querySelectorAll("#runs-table tbody tr").length,
    };
}"""


def seed_many(store_uri: str, count: int) -> str:
    rng = random.Random(7)
    store = SqlStore(store_uri)
    try:
        experiment = store.create_experiment("sweep")
        start = 1_735_689_600_000
        for index in range(count):
            run = store.create_run(
                experiment.id, name=f"trial-{index:05d}", start_time=start + index * 1000
            )
            store.log_batch(
                run.id,
                metrics=[
                    Metric("accuracy", rng.uniform(0.5, 0.99), 10, start),
                    Metric("loss", rng.uniform(0.01, 2.0), 10, start),
                    Metric("f1", rng.uniform(0.4, 0.98), 10, start),
                ],
                params=[
                    Param("lr", str(rng.choice([0.001, 0.003, 0.01, 0.03, 0.1]))),
                    Param("model", rng.choice(["cnn", "mlp", "resnet", "vit"])),
                    Param("batch_size", str(rng.choice([32, 64, 128, 256]))),
                    Param("seed", str(index)),
                ],
            )
            store.update_run(run.id, status=RunStatus.FINISHED, end_time=start + index * 1000 + 500)
        return experiment.id
    finally:
        store.close()


_PAINTED = "() => performance.getEntriesByName('first-contentful-paint').length > 0"


def measure(page: Any, url: str, loads: int) -> dict[str, float]:
    samples: list[dict[str, Any]] = []
    page.goto(url)  # warm-up: connection, static files in cache, SQLite pages in memory
    for _ in range(loads):
        page.goto(url, wait_until="load")
        # The paint entry may be recorded a frame after the load event.
        page.wait_for_function(_PAINTED, timeout=5_000)
        samples.append(page.evaluate(_TIMING))
    assert all(sample["rows"] > 0 for sample in samples), "the table is empty"
    return {
        "response_ms": statistics.median(s["response"] for s in samples),
        "table_ms": statistics.median(s["table"] for s in samples),
        "paint_ms": statistics.median(s["paint"] for s in samples if s["paint"] is not None),
        "rows": samples[0]["rows"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--folder", type=Path, help="keep (or reuse) the seeded store here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shipyard-ui-measure-") as scratch:
        folder = args.folder or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        store_uri = f"sqlite:///{folder / 'shipyard.db'}"
        if (folder / "shipyard.db").exists():
            with SqlStore(store_uri) as store:
                experiment = store.get_experiment_by_name("sweep").id
        else:
            began = time.perf_counter()
            experiment = seed_many(store_uri, args.runs)
            print(f"seeded {args.runs} runs in {time.perf_counter() - began:.1f} s")
        with live_server(store_uri, str(folder / "blobs")) as base, sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            table = f"{base}/runs?experiment={experiment}"
            scenarios = {
                "default order (newest first)": table,
                "sorted by metrics.accuracy DESC": f"{table}&order=metrics.accuracy+DESC",
                "filtered + sorted": f"{table}&filter=params.model+%3D+%27cnn%27+and+"
                "metrics.loss+%3C+0.5&order=metrics.f1+DESC",
                "all experiments, 200 per page": f"{base}/runs?page_size=200",
            }
            for name, url in scenarios.items():
                result = measure(page, url, args.loads)
                print(
                    f"{name:34s} rows={result['rows']:4.0f}"
                    f"  response {result['response_ms']:6.1f} ms"
                    f"  table in DOM {result['table_ms']:6.1f} ms"
                    f"  first paint {result['paint_ms']:6.1f} ms"
                )
            browser.close()


if __name__ == "__main__":
    main()
