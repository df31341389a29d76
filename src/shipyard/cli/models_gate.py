"""``shipyard models evaluate`` and ``shipyard models promote`` (the promotion gate).

``promote`` exits 0 when the alias moved, 2 when the gate refused, and 1 on any
error, a mistyped option included (click's own usage errors exit 2, which a
script would read as a refusal).
"""

from __future__ import annotations

from typing import Any

import click

from shipyard.errors import InvalidInputError
from shipyard.evaluation.evaluate import EvaluationResult
from shipyard.evaluation.gate import Promotion
from shipyard.evaluation.metrics import known_metrics

from .models_common import decision_to_json, evaluation_to_json, model_uri
from .output import client, console, format_value, json_option, print_json, print_table

__all__ = ["EXIT_REFUSED", "evaluate_command", "promote_command"]

EXIT_REFUSED = 2
MAX_SLICE_COLUMNS = 6


class _StrictUsage(click.Command):
    """Usage errors as one ``Error:`` line with exit 1, so that exit 2 means one thing."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            raise InvalidInputError(
                f"{exc.format_message()} (see shipyard models {info_name} --help)"
            ) from None


def _task(value: str | None) -> str | None:
    return None if value in (None, "auto") else value


task_option = click.option(
    "--task",
    type=click.Choice(["auto", "classification", "regression"]),
    default="auto",
    show_default=True,
    help="auto: a model with class probabilities classifies; float predictions regress.",
)
trust_option = click.option(
    "--trust", is_flag=True, help="Allow models stored as pickle (they run code when loaded)."
)


@click.command("evaluate", cls=_StrictUsage)
@click.argument("ref")
@click.option("--data", "-d", required=True, help="Dataset version: datasets:/NAME@latest.")
@click.option("--target", "-y", required=True, help="The column holding the truth.")
@task_option
@click.option("--slice-by", help="Also score each value of this column separately.")
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots.")
@trust_option
@json_option
def evaluate_command(
    ref: str,
    data: str,
    target: str,
    task: str | None,
    slice_by: str | None,
    no_plots: bool,
    trust: bool,
    as_json: bool,
) -> None:
    """Score model REF (NAME/3, NAME@ALIAS, runs:/<id>/model) on a dataset version and
    store the evaluation."""
    from shipyard.evaluation.evaluate import evaluate

    result = evaluate(
        model_uri(ref),
        data,
        target,
        _task(task),
        slice_by=slice_by,
        plots=not no_plots,
        trust=trust,
        client=client(),
    )
    if as_json:
        print_json(evaluation_to_json(result.evaluation))
        return
    _print_evaluation(result)


def _print_evaluation(result: EvaluationResult) -> None:
    out = console()
    source = result.dataset_uri or "the given table"
    click.echo(f"Evaluated {result.model_uri} on {source}: {result.row_count} rows, {result.task}.")
    print_table(["METRIC", "VALUE"], [[k, format_value(v)] for k, v in result.metrics.items()])
    for note in result.details.get("notes", []):
        click.echo(f"Note: {note}")
    slices = result.details.get("slices")
    if isinstance(slices, dict):
        keys = list(result.metrics)[:MAX_SLICE_COLUMNS]
        rows = [
            [
                str(entry["value"]),
                str(entry["row_count"]),
                *(format_value(entry["metrics"].get(k)) for k in keys),
            ]
            for entry in slices["slices"]
        ]
        out.print()
        print_table([slices["column"].upper(), "ROWS", *keys], rows, title="Slices")
    if result.plots:
        shown = ", ".join(f"{name} ({digest[:12]})" for name, digest in result.plots.items())
        click.echo(f"Plots: {shown}")
    click.echo(f"Evaluation: {result.id}")


def _thresholds(items: tuple[str, ...]) -> dict[str, float]:
    bounds: dict[str, float] = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise InvalidInputError(f"--threshold takes METRIC=BOUND, got {item!r}")
        try:
            bounds[name.strip()] = float(value)
        except ValueError:
            raise InvalidInputError(f"--threshold {item!r}: {value!r} is not a number") from None
    return bounds


@click.command("promote", cls=_StrictUsage)
@click.argument("candidate")
@click.option("--alias", "-a", default="production", show_default=True)
@click.option("--data", "-d", required=True, help="Dataset version both models are scored on.")
@click.option("--target", "-y", required=True, help="The column holding the truth.")
@click.option(
    "--metric",
    "-m",
    default="f1_macro",
    show_default=True,
    help=f"The score compared: {', '.join(known_metrics())}.",
)
@click.option(
    "--min-delta",
    type=float,
    default=0.0,
    show_default=True,
    help="How much better than the incumbent the candidate must score.",
)
@click.option(
    "--threshold",
    "-t",
    "thresholds",
    multiple=True,
    help="METRIC=BOUND the candidate must meet, e.g. accuracy=0.9 or rmse=3 (repeatable).",
)
@task_option
@click.option("--reason", "-r", help="A note kept with the decision and the alias's history.")
@trust_option
@json_option
@click.pass_context
def promote_command(
    ctx: click.Context,
    candidate: str,
    alias: str,
    data: str,
    target: str,
    metric: str,
    min_delta: float,
    thresholds: tuple[str, ...],
    task: str | None,
    reason: str | None,
    trust: bool,
    as_json: bool,
) -> None:
    """Move ALIAS to CANDIDATE (NAME/4, NAME@challenger) only if it beats the alias's
    holder on the same data and meets every threshold. Exit 0: promoted; 2: refused."""
    from shipyard.evaluation.gate import promote

    promotion = promote(
        model_uri(candidate),
        alias,
        data=data,
        target=target,
        metric=metric,
        min_delta=min_delta,
        thresholds=_thresholds(thresholds),
        task=_task(task),
        reason=reason,
        trust=trust,
        client=client(),
    )
    if as_json:
        payload = decision_to_json(promotion.decision)
        payload["candidate_evaluation"] = evaluation_to_json(promotion.candidate.evaluation)
        if promotion.incumbent is not None:
            payload["incumbent_evaluation"] = evaluation_to_json(promotion.incumbent.evaluation)
        print_json(payload)
    else:
        _print_promotion(promotion)
    if not promotion.promoted:
        ctx.exit(EXIT_REFUSED)


def _print_promotion(promotion: Promotion) -> None:
    d = promotion.decision
    source = promotion.candidate.dataset_uri or "the given table"
    click.echo(f"Gate for {d.name}@{d.alias} on {source}, metric {d.metric}:")
    incumbent = promotion.incumbent if d.incumbent_version != d.candidate_version else None
    columns = ["METRIC", f"CANDIDATE {d.name}/{d.candidate_version}"]
    if incumbent is not None:
        columns.append(f"INCUMBENT {d.name}/{d.incumbent_version}")
    names = [d.metric, *(k for k in promotion.candidate.metrics if k != d.metric)]
    rows = []
    for name in names:
        row = [
            name + (" *" if name == d.metric else ""),
            format_value(promotion.candidate.metrics.get(name)),
        ]
        if incumbent is not None:
            row.append(format_value(incumbent.metrics.get(name)))
        rows.append(row)
    print_table(columns, rows)
    click.echo(
        f"Candidate {d.name}/{d.candidate_version}: {d.metric} {format_value(d.candidate_score)}"
    )
    if d.incumbent_version is None:
        click.echo(f"Incumbent: none ({d.alias} is not set)")
    else:
        click.echo(
            f"Incumbent {d.name}/{d.incumbent_version}: {d.metric} "
            f"{format_value(d.incumbent_score)}"
        )
    if d.promoted:
        click.echo(f"PROMOTED: {d.name}@{d.alias} → version {d.candidate_version}.")
    else:
        stays = "unset" if d.incumbent_version is None else f"at version {d.incumbent_version}"
        click.echo(f"REFUSED: {d.name}@{d.alias} stays {stays}.")
    click.echo(f"Why: {promotion.explanation}")
    click.echo(f"Decision: {d.id}")
