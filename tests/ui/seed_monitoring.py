"""Monitoring data for the UI tests: real drift reports, stored the way a monitor stores them.

Each report's drift part is a real :func:`shipyard.monitoring.drift` of two small
synthetic tables, its quality part a real
:func:`shipyard.monitoring.quality.compute_quality` of labelled predictions
against ``mnist-cnn`` v2's promotion evaluation, and
:func:`shipyard.monitoring.report_service.store_report` stores its JSON, its HTML
and its row. Only the prediction logs are left out: the tables are made here.

A monitor watches ``mnist-cnn@production`` hourly and made six reports, oldest
first: ok, ok (one column drifted, under the 0.3 share), drift,
drift_and_quality_drop, ok, drift. So it alerted four times and is in ``drift``
now. ``fraud-xgb`` has one report of its own, made without a monitor and stored
without HTML.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from shipyard.entities import now_ms
from shipyard.monitoring.drift_api import drift
from shipyard.monitoring.quality import QualityReport, compute_quality, find_baseline
from shipyard.monitoring.report_service import store_report
from shipyard.monitoring.reports import MonitorReport
from shipyard.monitoring.windows import Window
from shipyard.tracking.client import Client
from tests.ui.seed import Seeded
from tests.ui.seed_models import MODEL, PRODUCTION_VERSION, SMALL_MODEL

HOUR_MS = 3_600_000
REFERENCE = "datasets:/mnist-images/2"
THRESHOLDS = {"drift_share": 0.3}
FEATURES = ["mean_intensity", "stroke_width", "ink_share", "scanner", "dpi"]
REFERENCE_ROWS = 600
WINDOW_ROWS = 300
LABELLED_ROWS = 120


@dataclass(frozen=True)
class Hour:
    """One hour of traffic: which features shifted, and how accurate the model was."""

    status: str
    shifted: tuple[str, ...]
    wrong: int | None  # wrong predictions among the labelled rows; None: no labels arrived

    @property
    def accuracy(self) -> float | None:
        return None if self.wrong is None else 1 - self.wrong / LABELLED_ROWS


# Oldest first. The statuses are what the reports must come out as; seed() checks them.
WINDOWS = [
    Hour("ok", (), None),
    Hour("ok", ("scanner",), 2),
    Hour("drift", ("scanner", "mean_intensity"), 3),
    Hour("drift_and_quality_drop", ("scanner", "mean_intensity", "stroke_width"), 15),
    Hour("ok", (), 2),
    Hour("drift", ("scanner", "mean_intensity", "stroke_width", "dpi"), 5),
]
# (from, to) of each alert the monitor raised, oldest first.
ALERTS = [
    ("ok", "drift"),
    ("drift", "drift_and_quality_drop"),
    ("drift_and_quality_drop", "ok"),
    ("ok", "drift"),
]
LATEST_DRIFTED = ["mean_intensity", "stroke_width", "scanner", "dpi"]  # of the newest report


def features(rng: np.random.Generator, rows: int, shifted: tuple[str, ...] = ()) -> pd.DataFrame:
    """Statistics of scanned digits; a shifted feature comes from another scanner fleet."""

    def pick(name: str, normal: Any, moved: Any) -> Any:
        return moved if name in shifted else normal

    stroke = rng.normal(pick("stroke_width", 2.1, 2.7), 0.4, rows)
    if "stroke_width" in shifted:
        stroke[rng.random(rows) < 0.06] = np.nan  # the new scanners drop some readings
    scanners = ["flatbed", "phone", "kiosk", "tablet"]
    return pd.DataFrame(
        {
            "mean_intensity": rng.normal(pick("mean_intensity", 0.13, 0.17), 0.03, rows),
            "stroke_width": stroke,
            "ink_share": rng.beta(2, 12, rows),
            "scanner": rng.choice(
                scanners, rows, p=pick("scanner", [0.6, 0.3, 0.1, 0.0], [0.3, 0.4, 0.15, 0.15])
            ),
            "dpi": rng.choice(
                [150, 300, 600], rows, p=pick("dpi", [0.2, 0.6, 0.2], [0.55, 0.35, 0.1])
            ),
        }
    )


def labelled_logs(rng: np.random.Generator, wrong: int | None, skewed: bool) -> pa.Table:
    """Predicted digits, and the true label of the first ``LABELLED_ROWS`` of them, of
    which ``wrong`` were predicted wrong (and one in ten of the others).

    ``skewed``: the new scanners serve a form where ones and sevens are most digits.
    """
    weights = np.array([1, 4, 1, 1, 1, 1, 1, 3, 1, 1] if skewed else [1] * 10, float)
    labels = rng.choice(10, WINDOW_ROWS, p=weights / weights.sum())
    missed = np.concatenate(
        [
            rng.permutation(LABELLED_ROWS) < (wrong or 0),
            rng.random(WINDOW_ROWS - LABELLED_ROWS) < 0.1,
        ]
    )
    predicted = np.where(missed, (labels + 1 + rng.integers(0, 9, WINDOW_ROWS)) % 10, labels)
    known = [
        int(v) if i < LABELLED_ROWS and wrong is not None else None for i, v in enumerate(labels)
    ]
    return pa.table({"digit": predicted.astype(np.int64), "label": pa.array(known, pa.int64())})


def _report(
    client: Client,
    start: int,
    window: Hour,
    rng: np.random.Generator,
    reference: pd.DataFrame,
    reference_predictions: np.ndarray[Any, Any],
) -> MonitorReport:
    current = features(rng, WINDOW_ROWS, window.shifted)
    logs = labelled_logs(rng, window.wrong, len(window.shifted) >= 3)
    predictions = np.asarray(logs.column("digit").to_numpy())
    found = drift(
        reference,
        current,
        column_methods={"ink_share": "psi"},
        drift_share=THRESHOLDS["drift_share"],
        prediction=(reference_predictions, predictions),
    )
    baseline, _ = find_baseline(client.store, MODEL, PRODUCTION_VERSION)
    quality = compute_quality(logs, ["digit"], baseline, THRESHOLDS)
    return MonitorReport(
        model_uri=f"models:/{MODEL}@production",
        model_name=MODEL,
        model_version=PRODUCTION_VERSION,
        run_id=None,
        reference=REFERENCE,
        reference_reason="the model's training data",
        target="label",
        column_mapping={name: name for name in FEATURES},
        by_position=False,
        window=Window(seconds=3600),
        window_start=start,
        window_end=start + HOUR_MS,
        rows=WINDOW_ROWS,
        drift=found,
        quality=quality,
        prediction_reference="model",
        thresholds=dict(THRESHOLDS),
        created_at=start + HOUR_MS,
    )


def seed_monitor(client: Client) -> str:
    """The mnist-cnn monitor and its six reports; returns the monitor's id."""
    rng = np.random.default_rng(20250101)
    reference = features(rng, REFERENCE_ROWS)
    reference_predictions = rng.integers(0, 10, REFERENCE_ROWS)
    # The windows end at the last full hour, so the times read like a monitor that ran today.
    first = (now_ms() // HOUR_MS - len(WINDOWS)) * HOUR_MS
    store = client.store
    monitor = store.create_monitor(
        f"models:/{MODEL}@production",
        3600,
        thresholds=THRESHOLDS,
        config={"reference": REFERENCE, "trust": False},
        next_run_at=first + HOUR_MS,
    )
    for index, window in enumerate(WINDOWS):
        start = first + index * HOUR_MS
        report = _report(client, start, window, rng, reference, reference_predictions)
        assert report.status == window.status, (index, report.status, report.drift.drifted_columns)
        due = start + HOUR_MS
        assert store.claim_monitor_run(monitor.id, due, due + HOUR_MS)
        store_report(client, report, monitor.id)
        store.update_monitor(monitor.id, state=report.status)
    return monitor.id


def seed_fraud_report(client: Client) -> None:
    """A one-off check of fraud-xgb: no monitor, no labels, its JSON without an HTML page."""
    rng = np.random.default_rng(7)

    def transactions(rows: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "amount": rng.lognormal(3.2, 0.9, rows),
                "country": rng.choice(["DE", "FR", "NL", "PL"], rows, p=[0.4, 0.3, 0.2, 0.1]),
                "hour": rng.integers(0, 24, rows),
            }
        )

    found = drift(transactions(400), transactions(250))
    end = (now_ms() // HOUR_MS) * HOUR_MS
    report = MonitorReport(
        model_uri=f"models:/{SMALL_MODEL}/1",
        model_name=SMALL_MODEL,
        model_version=1,
        run_id=None,
        reference="datasets:/transactions/4",
        reference_reason="given",
        target=None,
        column_mapping={},
        by_position=False,
        window=Window(seconds=86_400),
        window_start=end - 86_400_000,
        window_end=end,
        rows=250,
        drift=found,
        quality=QualityReport(0, note="no labels yet"),
        created_at=end,
    )
    assert report.status == "ok", report.drift.drifted_columns
    digest, _ = client.blob_store.put(io.BytesIO(report.to_json()))
    client.store.create_report(
        SMALL_MODEL,
        1,
        report.dataset_drift,
        report.drift.drifted_share,
        report.summary(),
        digest,
        reference=report.reference,
        window_start=report.window_start,
        window_end=report.window_end,
        row_count=report.rows,
    )


def seed_monitoring(seeded: Seeded) -> None:
    with Client(seeded.store_uri, artifacts_uri=seeded.artifacts_uri) as client:
        seed_monitor(client)
        seed_fraud_report(client)
