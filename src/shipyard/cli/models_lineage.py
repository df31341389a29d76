"""``shipyard models lineage REF``: where a model version came from, and where it went.

::

    dataset versions → run (params, metrics, code, environment) → model version
      → aliases and their history, evaluations, promotion decisions
"""

from __future__ import annotations

import json
from typing import Any

import click
from rich.table import Table

from shipyard.entities import DatasetVersion, ModelVersion, Run
from shipyard.errors import NotFoundError, ShipyardError
from shipyard.store.rest.codec import dataset_version_to_json, run_to_json
from shipyard.tracking.client import Client
from shipyard.tracking.context import TAG_PREFIX

from .models_common import (
    decision_to_json,
    evaluation_to_json,
    event_to_json,
    parse_model_ref,
    version_to_json,
)
from .output import (
    client,
    console,
    format_size,
    format_time,
    format_value,
    json_option,
    print_json,
    print_table,
    short_id,
)

__all__ = ["lineage_command"]

MAX_SHOWN_PACKAGES = 12
_CODE_TAGS = ("git.commit", "git.branch", "git.dirty", "git.remote", "source.entry_point")


def _manifest(c: Client, version: ModelVersion) -> dict[str, Any]:
    try:
        data = json.loads(b"".join(c.blob_store.open(version.package_digest)))
    except (ShipyardError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _run(c: Client, run_id: str | None) -> Run | None:
    if run_id is None:
        return None
    try:
        return c.store.get_run(run_id)
    except NotFoundError:
        return None


def _datasets(c: Client, run: Run | None, manifest: dict[str, Any]) -> list[DatasetVersion]:
    pairs: list[tuple[str, int]] = []
    if run is not None:
        pairs.extend((i.dataset, i.version) for i in c.store.get_run_inputs(run.id))
    for item in manifest.get("datasets") or []:
        if isinstance(item, dict) and isinstance(item.get("version"), int):
            pairs.append((str(item.get("dataset")), int(item["version"])))
    found = []
    for name, number in dict.fromkeys(pairs):
        try:
            found.append(c.store.get_dataset_version(name, number))
        except NotFoundError:
            continue
    return found


def lineage(c: Client, text: str) -> dict[str, Any]:
    """The whole chain of one model version, as plain data."""
    ref = parse_model_ref(text)
    s = c.store
    version = s.get_model_version(ref.name, ref.ref)
    manifest = _manifest(c, version)
    run = _run(c, version.run_id)
    events = s.list_alias_events(version.name)
    touched = {e.alias for e in events if version.version in (e.from_version, e.to_version)} | set(
        version.aliases
    )
    return {
        "model_version": version,
        "manifest": manifest,
        "run": run,
        "experiment": s.get_experiment(run.experiment_id).name if run is not None else None,
        "datasets": _datasets(c, run, manifest),
        "alias_events": [e for e in events if e.alias in touched],
        "evaluations": s.list_evaluations(version.name, version.version),
        "decisions": [
            d
            for d in s.list_promotion_decisions(version.name)
            if version.version in (d.candidate_version, d.incumbent_version)
        ],
    }


@click.command("lineage")
@click.argument("ref")
@json_option
def lineage_command(ref: str, as_json: bool) -> None:
    """The chain behind model version REF (NAME@production, NAME/3): dataset versions →
    run (params, metrics, code commit, environment) → version → aliases and history."""
    chain = lineage(client(), ref)
    if as_json:
        print_json(_to_json(chain))
        return
    _print(chain)


def _to_json(chain: dict[str, Any]) -> dict[str, Any]:
    run: Run | None = chain["run"]
    return {
        "model_version": version_to_json(chain["model_version"]),
        "environment": chain["manifest"].get("environment"),
        "run": run_to_json(run) if run is not None else None,
        "experiment": chain["experiment"],
        "datasets": [{**dataset_version_to_json(d), "uri": d.uri} for d in chain["datasets"]],
        "alias_events": [event_to_json(e) for e in chain["alias_events"]],
        "evaluations": [evaluation_to_json(e) for e in chain["evaluations"]],
        "promotion_decisions": [decision_to_json(d) for d in chain["decisions"]],
    }


def _grid(rows: list[tuple[str, str | None]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for label, value in rows:
        if value:
            grid.add_row(label, value)
    return grid


def _print(chain: dict[str, Any]) -> None:
    out = console()
    version: ModelVersion = chain["model_version"]
    run: Run | None = chain["run"]
    if out.is_terminal:
        out.rule(f"[bold]Lineage of {version.uri}")
    else:  # piped: the console is very wide, and a rule would fill it
        out.print(f"[bold]Lineage of {version.uri}")
    out.print("[bold]Dataset versions[/]")
    datasets: list[DatasetVersion] = chain["datasets"]
    print_table(
        ["VERSION", "FILES", "SIZE", "CREATED", "MESSAGE"],
        [
            [
                d.uri,
                str(d.file_count),
                format_size(d.total_size),
                format_time(d.created_at),
                d.message or "",
            ]
            for d in datasets
        ],
        empty="  none recorded",
    )
    out.print("   ↓")
    if run is None:
        out.print(f"[bold]Run[/]: {version.run_id or 'none (registered from outside a run)'}")
    else:
        _print_run(chain, run)
    out.print("   ↓")
    out.print("[bold]Model version[/]")
    out.print(
        _grid(
            [
                ("Version", f"{version.uri} ({version.status.value})"),
                ("Source", version.source),
                ("Flavor", version.flavor),
                ("Package", version.package_digest),
                ("Registered", f"{format_time(version.created_at)} by {version.user or '-'}"),
                ("Aliases", ", ".join(sorted(version.aliases)) or "none now"),
            ]
        )
    )
    out.print("   ↓")
    out.print("[bold]Alias history[/]")
    print_table(
        ["WHEN", "ALIAS", "FROM", "TO", "USER", "REASON"],
        [
            [
                format_time(e.created_at),
                e.alias,
                "-" if e.from_version is None else str(e.from_version),
                "(removed)" if e.to_version is None else str(e.to_version),
                e.user or "-",
                e.reason or "",
            ]
            for e in chain["alias_events"]
        ],
        empty="  no alias ever named this version",
    )
    if chain["evaluations"]:
        out.print("[bold]Evaluations[/]")
        print_table(
            ["ID", "DATA", "METRICS", "WHEN"],
            [
                [
                    e.id[:8],
                    f"datasets:/{e.dataset}/{e.dataset_version}" if e.dataset else "table",
                    ", ".join(f"{k} {v:.4g}" for k, v in list(e.metrics.items())[:5]),
                    format_time(e.created_at),
                ]
                for e in chain["evaluations"]
            ],
        )
    if chain["decisions"]:
        out.print("[bold]Promotion decisions[/]")
        print_table(
            ["WHEN", "ALIAS", "CANDIDATE", "INCUMBENT", "DECISION", "REASON"],
            [
                [
                    format_time(d.created_at),
                    d.alias,
                    str(d.candidate_version),
                    "-" if d.incumbent_version is None else str(d.incumbent_version),
                    "promoted" if d.promoted else "refused",
                    d.reason,
                ]
                for d in chain["decisions"]
            ],
        )


def _print_run(chain: dict[str, Any], run: Run) -> None:
    out = console()
    tags = run.tags

    def tag(key: str) -> str | None:
        return tags.get(TAG_PREFIX + key)

    commit = tag("git.commit")
    code = None
    if commit:
        dirty = " (uncommitted changes)" if tag("git.dirty") == "true" else ""
        branch = f" on {tag('git.branch')}" if tag("git.branch") else ""
        code = f"commit {commit[:12]}{branch}{dirty}"
    environment = chain["manifest"].get("environment") or {}
    packages = environment.get("packages") if isinstance(environment, dict) else None
    python = (environment.get("python") if isinstance(environment, dict) else None) or tag(
        "python.version"
    )
    shown = ""
    if isinstance(packages, dict) and packages:
        items = sorted(packages.items())
        shown = ", ".join(f"{k} {v}" for k, v in items[:MAX_SHOWN_PACKAGES])
        if len(items) > MAX_SHOWN_PACKAGES:
            shown += f" (+{len(items) - MAX_SHOWN_PACKAGES})"
    out.print("[bold]Run[/]")
    out.print(
        _grid(
            [
                ("Run", f"{short_id(run.id)} {run.name} ({run.status.value})"),
                ("Id", run.id),
                ("Experiment", chain["experiment"]),
                ("Started", format_time(run.start_time)),
                ("Code", code),
                ("Entry point", tag("source.entry_point")),
                ("Python", python),
                ("Packages", shown or None),
                ("Host", tag("host")),
                ("Params", ", ".join(f"{k}={v}" for k, v in sorted(run.params.items()))),
                (
                    "Metrics",
                    ", ".join(
                        f"{k} {format_value(mv.value)}" for k, mv in sorted(run.metrics.items())
                    ),
                ),
            ]
        )
    )
