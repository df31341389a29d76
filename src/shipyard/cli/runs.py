"""``shipyard runs ls|show|compare|delete|restore``.

Run ids may be given in full or as a unique prefix of at least 6 characters.
"""

from __future__ import annotations

import json

import click
from rich.table import Table
from rich.text import Text

from shipyard.entities import Run, ViewType
from shipyard.errors import InvalidInputError
from shipyard.store.rest.codec import artifact_to_json, run_to_json
from shipyard.tracking.client import Client
from shipyard.tracking.context import SYSTEM_PATH, TAG_PREFIX
from shipyard.tracking.search import compare_runs

from .output import (
    client,
    console,
    format_duration,
    format_size,
    format_time,
    format_value,
    json_option,
    print_json,
    print_table,
    short_id,
)

__all__ = ["group"]

DEFAULT_LIMIT = 50
MAX_DEFAULT_METRICS = 6
MAX_DEFAULT_PARAMS = 4


@click.group("runs")
def group() -> None:
    """List, inspect, compare, delete and restore runs."""


def _view(show_all: bool, only_deleted: bool) -> ViewType:
    if show_all and only_deleted:
        raise InvalidInputError("--all and --deleted exclude each other")
    return ViewType.ALL if show_all else ViewType.DELETED if only_deleted else ViewType.ACTIVE


def _check_column(column: str) -> tuple[str, str]:
    entity, _, key = column.partition(".")
    if entity not in ("metrics", "params", "tags") or not key:
        raise InvalidInputError(
            f"column {column!r} must start with metrics., params. or tags. (e.g. metrics.acc)"
        )
    return entity, key


def _column_value(run: Run, column: str) -> str:
    entity, key = _check_column(column)
    if entity == "metrics":
        metric = run.metrics.get(key)
        return format_value(metric.value if metric else None)
    return format_value((run.params if entity == "params" else run.tags).get(key))


def _default_columns(runs: list[Run]) -> list[str]:
    metric_keys = sorted({key for run in runs for key in run.metrics})[:MAX_DEFAULT_METRICS]
    param_keys = sorted({key for run in runs for key in run.params})
    differing = [k for k in param_keys if len({run.params.get(k) for run in runs}) > 1]
    return [
        *(f"metrics.{k}" for k in metric_keys),
        *(f"params.{k}" for k in differing[:MAX_DEFAULT_PARAMS]),
    ]


@group.command("ls")
@click.option(
    "--experiment", "-e", "experiments", multiple=True, help="Experiment name (repeatable)."
)
@click.option("--filter", "-f", "filter_string", help='e.g. "metrics.acc > 0.9".')
@click.option("--order-by", "-o", multiple=True, help="e.g. 'metrics.acc DESC' (repeatable).")
@click.option("--limit", "-n", type=int, default=DEFAULT_LIMIT, show_default=True)
@click.option("--columns", "-c", help="Extra columns, e.g. metrics.acc,params.lr,tags.team.")
@click.option("--all", "show_all", is_flag=True, help="Include deleted runs.")
@click.option("--deleted", "only_deleted", is_flag=True, help="Only deleted runs.")
@json_option
def list_runs(
    experiments: tuple[str, ...],
    filter_string: str | None,
    order_by: tuple[str, ...],
    limit: int,
    columns: str | None,
    show_all: bool,
    only_deleted: bool,
    as_json: bool,
) -> None:
    """List runs, newest first unless --order-by says otherwise."""
    if limit < 1:
        raise InvalidInputError(f"--limit must be at least 1, got {limit}")
    c = client()
    view = _view(show_all, only_deleted)
    runs = list(
        c.iter_runs(c.experiment_ids(experiments), filter_string, order_by or None, view, limit)
    )
    if as_json:
        print_json([run_to_json(run) for run in runs])
        return
    chosen = [col.strip() for col in columns.split(",") if col.strip()] if columns else None
    extra = chosen if chosen is not None else _default_columns(runs)
    for column in extra:
        _check_column(column)
    experiment_names = _experiment_names(c, runs)
    many = len(experiment_names) > 1
    header = ["ID", "NAME", *(["EXPERIMENT"] if many else []), "STATUS", "START", "DURATION"]
    rows: list[list[str | Text]] = [
        [
            short_id(run.id),
            run.name,
            *([experiment_names[run.experiment_id]] if many else []),
            _status_text(run),
            format_time(run.start_time),
            format_duration(run.duration_ms),
            *(_column_value(run, column) for column in extra),
        ]
        for run in runs
    ]
    print_table([*header, *extra], rows, empty="No runs.")


def _experiment_names(c: Client, runs: list[Run]) -> dict[str, str]:
    return {eid: c.store.get_experiment(eid).name for eid in {run.experiment_id for run in runs}}


_STATUS_STYLES = {"FINISHED": "green", "FAILED": "red", "KILLED": "yellow", "RUNNING": "cyan"}


def _status_text(run: Run) -> Text:
    label = run.status.value + (" (deleted)" if run.lifecycle_stage.value == "deleted" else "")
    return Text(label, style=_STATUS_STYLES.get(run.status.value, ""))


@group.command("show")
@click.argument("run_id")
@json_option
def show(run_id: str, as_json: bool) -> None:
    """Everything about one run: status, code, environment, params, metrics, artifacts."""
    c = client()
    run = c.get_run(run_id)
    experiment = c.store.get_experiment(run.experiment_id)
    entries = c.store.list_artifacts(run.id)
    inputs = c.store.get_run_inputs(run.id)
    if as_json:
        data = run_to_json(run)
        data["experiment_name"] = experiment.name
        data["artifacts"] = [artifact_to_json(entry) for entry in entries]
        data["inputs"] = [f"datasets:/{i.dataset}/{i.version}" for i in inputs]
        print_json(data)
        return
    system = _system_facts(c, run, {e.path for e in entries})
    out = console()
    out.print(_overview(run, experiment.name, system))
    params = [[key, run.params[key]] for key in sorted(run.params)]
    metrics = [[key, format_value(m.value), str(m.step)] for key, m in sorted(run.metrics.items())]
    tags = [[k, v] for k, v in sorted(run.tags.items()) if not k.startswith(TAG_PREFIX)]
    files = [[e.path, format_size(e.size), e.digest[:12]] for e in entries]
    used = [[f"datasets:/{i.dataset}/{i.version}", format_time(i.created_at)] for i in inputs]
    for title, columns, rows in (
        ("Inputs", ["DATASET VERSION", "USED"], used),
        ("Params", ["KEY", "VALUE"], params),
        ("Metrics (latest)", ["KEY", "VALUE", "STEP"], metrics),
        ("Tags", ["KEY", "VALUE"], tags),
        ("Artifacts", ["PATH", "SIZE", "DIGEST"], files),
    ):
        out.print()
        print_table(columns, rows, title=title, empty=f"{title}: none.")


def _system_facts(c: Client, run: Run, paths: set[str]) -> dict[str, object]:
    if SYSTEM_PATH not in paths:
        return {}
    try:
        data = json.loads(c.read_artifact(run.id, SYSTEM_PATH))
    except (ValueError, OSError):
        return {}
    return data if isinstance(data, dict) else {}


def _overview(run: Run, experiment: str, system: dict[str, object]) -> Table:
    tags = run.tags

    def tag(key: str) -> str | None:
        return tags.get(TAG_PREFIX + key)

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    status = _status_text(run)
    rows: list[tuple[str, str | Text | None]] = [
        ("Run", f"{run.name}  {run.id}"),
        ("Experiment", f"{experiment}  {run.experiment_id}"),
        ("Status", status),
        ("Started", format_time(run.start_time)),
        ("Ended", format_time(run.end_time)),
        ("Duration", format_duration(run.duration_ms)),
        ("User", run.user),
        ("Parent", run.parent_run_id),
    ]
    commit = tag("git.commit")
    if commit:
        dirty = " (uncommitted changes)" if tag("git.dirty") == "true" else ""
        branch = f" on {tag('git.branch')}" if tag("git.branch") else ""
        rows.append(("Git", f"{commit[:12]}{branch}{dirty}"))
        rows.append(("Remote", tag("git.remote")))
    rows.append(("Entry point", tag("source.entry_point")))
    rows.append(("Command", tag("source.command")))
    environment = [
        f"Python {tag('python.version')}" if tag("python.version") else None,
        tag("os"),
        f"{tag('cpu_count')} CPUs" if tag("cpu_count") else None,
        format_size(int(tag("memory_bytes") or 0)) + " memory" if tag("memory_bytes") else None,
        f"GPUs: {tag('gpus')}" if tag("gpus") else None,
        f"host {tag('host')}" if tag("host") else None,
    ]
    rows.append(("Environment", ", ".join(item for item in environment if item) or None))
    python = system.get("python")
    if isinstance(python, dict):
        rows.append(("Interpreter", str(python.get("executable", ""))))
    for label, value in rows:
        if value:
            grid.add_row(label, value)
    return grid


@group.command("compare")
@click.argument("run_ids", nargs=-1, required=True)
@json_option
def compare(run_ids: tuple[str, ...], as_json: bool) -> None:
    """Params that differ and metrics side by side for several runs."""
    comparison = compare_runs(client(), list(run_ids))
    runs = comparison.runs
    differing = comparison.differing_params
    if as_json:
        print_json(
            {
                "runs": [{"id": r.id, "name": r.name, "status": r.status.value} for r in runs],
                "params": comparison.params,
                "differing_params": sorted(differing),
                "metrics": comparison.metrics,
            }
        )
        return
    header = ["", *(f"{r.name}\n{short_id(r.id)}" for r in runs)]
    rows: list[list[str | Text]] = []
    for key, values in comparison.params.items():
        style = "bold yellow" if key in differing else "dim"
        marker = "* " if key in differing else "  "
        rows.append(
            [
                Text(f"{marker}params.{key}", style=style),
                *(Text(format_value(v), style=style) for v in values),
            ]
        )
    for key, metric_values in comparison.metrics.items():
        rows.append([f"  metrics.{key}", *(format_value(v) for v in metric_values)])
    print_table(header, rows, empty="These runs have no params or metrics.")
    if differing:
        click.echo(f"* {len(differing)} param(s) differ.")


@group.command("delete")
@click.argument("run_ids", nargs=-1, required=True)
def delete(run_ids: tuple[str, ...]) -> None:
    """Delete runs (restore undoes it)."""
    c = client()
    for run_id in run_ids:
        full = c.resolve_run_id(run_id)
        c.store.delete_run(full)
        click.echo(f"Deleted run {full}.")


@group.command("restore")
@click.argument("run_ids", nargs=-1, required=True)
def restore(run_ids: tuple[str, ...]) -> None:
    """Restore deleted runs."""
    c = client()
    for run_id in run_ids:
        full = c.resolve_run_id(run_id)
        c.store.restore_run(full)
        click.echo(f"Restored run {full}.")
