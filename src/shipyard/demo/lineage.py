"""Which data each run used, read back from the store: the runs' recorded inputs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from rich.table import Table

import shipyard as sy
from shipyard.demo.data import TEST_DATASET, TRAIN_DATASET
from shipyard.entities import RunInput

ROLES = {TRAIN_DATASET: "train", TEST_DATASET: "test"}


def run_inputs(client: sy.Client, run_id: str) -> list[RunInput]:
    """The dataset versions a run recorded as inputs: training data first."""
    order = list(ROLES)
    return sorted(
        client.store.get_run_inputs(run_id),
        key=lambda i: (order.index(i.dataset) if i.dataset in order else len(order), i.dataset),
    )


def label(found: RunInput) -> str:
    return f"{found.dataset}@{found.version}"


def versions_of(inputs: Sequence[RunInput], dataset: str) -> str:
    """``digits-train@1`` for the run's versions of ``dataset``; ``-`` when it used none."""
    return ", ".join(label(i) for i in inputs if i.dataset == dataset) or "-"


def lineage_table(client: sy.Client, run_id: str) -> Table:
    """The run's inputs: each version's content, who made it, and how many runs used it."""
    table = Table(title="data lineage (inputs of this run)", title_justify="left")
    table.add_column("role", style="cyan")
    table.add_column("version")
    table.add_column("rows x cols", justify="right")
    table.add_column("size", justify="right")
    table.add_column("content digest")
    table.add_column("added (UTC)")
    table.add_column("used by", justify="right")
    store = client.store
    for found in run_inputs(client, run_id):
        version = store.get_dataset_version(found.dataset, found.version)
        users = store.get_dataset_version_runs(found.dataset, found.version)
        added = dt.datetime.fromtimestamp(version.created_at / 1000, dt.UTC)
        table.add_row(
            ROLES.get(found.dataset, "input"),
            label(found),
            _shape(version.profile),
            f"{version.total_size:,} B",
            version.manifest_digest[:16],
            f"{added:%Y-%m-%d %H:%M}",
            f"{len(users)} runs",
        )
    return table


def _shape(profile: dict[str, object] | None) -> str:
    """Rows and columns of the version's (one) table, from its stored profile."""
    files = profile.get("files") if profile else None
    if not isinstance(files, dict) or not files:
        return "-"
    table = next(iter(files.values()))
    if not isinstance(table, dict):
        return "-"
    rows, columns = table.get("row_count"), table.get("column_count")
    if not isinstance(rows, int) or not isinstance(columns, int):
        return "-"
    return f"{rows:,} x {columns}"
