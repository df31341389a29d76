"""The release: the sweep's best model goes to production through the evaluation gate,
and a weaker one is refused.

Both are registered as versions of a model named after the experiment; the
gate scores each candidate and the alias's holder on the held-out dataset
version the runs recorded, and records its decision either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

import shipyard as sy
from shipyard.demo.data import TARGET
from shipyard.demo.train import MODEL_DIR
from shipyard.entities import DatasetVersion, ModelVersion
from shipyard.evaluation.gate import Promotion

ALIAS = "production"
GATE_METRIC = "f1_macro"
# The candidate must beat production by this much: a retrained copy of the same model
# (a second demo) is no reason to move the alias.
MIN_DELTA = 0.005
THRESHOLDS = {"accuracy": 0.8}
SHOWN_METRICS = ("accuracy", "f1_macro", "precision_macro", "recall_macro", "roc_auc", "log_loss")


@dataclass(frozen=True, slots=True)
class Release:
    best: Promotion
    weaker: Promotion | None


def _register(model_name: str, record: dict[str, Any], role: str) -> ModelVersion:
    run_id = str(record["run_id"])
    return sy.register_model(
        f"runs:/{run_id}/{MODEL_DIR}",
        model_name,
        description=f"{role} of the sweep: {record.get('run_name') or run_id[:8]}",
        tags={"demo.role": role},
    )


def _gate(version: ModelVersion, test: DatasetVersion, note: str) -> Promotion:
    promotion: Promotion = sy.models.promote(
        version.uri,
        ALIAS,
        data=test.uri,
        target=TARGET,
        metric=GATE_METRIC,
        min_delta=MIN_DELTA,
        thresholds=THRESHOLDS,
        reason=note,
    )
    return promotion


def release(console: Console, model_name: str, frame: Any, test: DatasetVersion) -> Release:
    """Register the leaderboard's first and last trials and put each through the gate."""
    records = frame.to_dict("records")
    best_version = _register(model_name, records[0], "best")
    best = _gate(best_version, test, "best of the sweep")
    weaker = None
    if len(records) > 1:
        weaker_version = _register(model_name, records[-1], "weakest")
        weaker = _gate(weaker_version, test, "weakest of the sweep, as a check of the gate")
    print_release(console, model_name, best, weaker)
    return Release(best, weaker)


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _decision_table(promotions: list[Promotion]) -> Table:
    table = Table(title="gate decisions", title_justify="left")
    table.add_column("candidate")
    table.add_column(f"candidate {GATE_METRIC}", justify="right")
    table.add_column("production then")
    table.add_column(f"its {GATE_METRIC}", justify="right")
    table.add_column("decision")
    for promotion in promotions:
        d = promotion.decision
        table.add_row(
            f"{d.name}/{d.candidate_version}",
            _score(d.candidate_score),
            "none" if d.incumbent_version is None else f"{d.name}/{d.incumbent_version}",
            _score(d.incumbent_score),
            "[bold green]PROMOTED[/]" if d.promoted else "[bold red]REFUSED[/]",
        )
    return table


def _evaluation_table(promotion: Promotion) -> Table:
    evaluation = promotion.candidate
    table = Table(
        title=f"evaluation of {evaluation.model_uri} on {evaluation.dataset_uri} "
        f"({evaluation.row_count} rows)",
        title_justify="left",
        show_header=False,
    )
    table.add_column(style="cyan")
    table.add_column(justify="right")
    for key in SHOWN_METRICS:
        if key in evaluation.metrics:
            table.add_row(key, f"{evaluation.metrics[key]:.4f}")
    table.add_row("plots", ", ".join(evaluation.plots) or "-")
    return table


def print_release(
    console: Console, model_name: str, best: Promotion, weaker: Promotion | None
) -> None:
    promotions = [best, *([weaker] if weaker is not None else [])]
    rules = ", ".join(f"{k} >= {v}" for k, v in THRESHOLDS.items())
    lines = [
        f"Gate: {GATE_METRIC} must beat {model_name}@{ALIAS} by at least {MIN_DELTA}, "
        f"and {rules}; both scored on the same held-out data."
    ]
    for promotion in promotions:
        lines.append(promotion.summary())
    history = Table(title=f"history of {model_name}@{ALIAS}", title_justify="left")
    for column in ("from", "to", "reason"):
        history.add_column(column)
    for event in sy.Client().store.list_alias_events(model_name, ALIAS):
        history.add_row(
            "-" if event.from_version is None else str(event.from_version),
            "(removed)" if event.to_version is None else str(event.to_version),
            event.reason or "",
        )
    console.print(
        Panel(
            Group(
                _evaluation_table(best),
                _decision_table(promotions),
                *lines,
                history,
            ),
            title="[bold]Release: through the evaluation gate[/]",
            border_style="cyan",
        )
    )
    console.print(f"Where it came from:     [bold]shipyard models lineage {model_name}@{ALIAS}[/]")
    console.print(
        f"Try the gate yourself:  [bold]shipyard models promote {model_name}/N "
        f"--data {best.candidate.dataset_uri} --target {TARGET}[/]"
    )
