"""``shipyard models ls|show|versions|register|alias|history|archive|unarchive|download``,
plus ``evaluate`` and ``promote`` (:mod:`.models_gate`) and ``lineage`` (:mod:`.models_lineage`).

Models are named ``NAME`` (the latest version), ``NAME/3``, ``NAME@ALIAS`` or by
URI: ``models:/NAME/3``, ``models:/NAME@production``; ``runs:/<id>/model`` names a
package that is not registered.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from shipyard.entities import AliasEvent, ModelVersion, ModelVersionStatus, RegisteredModel
from shipyard.errors import InvalidInputError

from .models_common import (
    decision_to_json,
    evaluation_to_json,
    event_to_json,
    model_to_json,
    parse_model_ref,
    store,
    version_to_json,
)
from .output import client, console, format_time, json_option, print_json, print_table, short_id

if TYPE_CHECKING:
    from shipyard.models.uris import ModelRef

__all__ = ["group"]


@click.group("models")
def group() -> None:
    """Register model versions, move aliases, evaluate and promote through the gate."""


def _version(ref: ModelRef) -> ModelVersion:
    return store().get_model_version(ref.name, ref.ref)


def _numbered(text: str, verb: str) -> ModelVersion:
    ref = parse_model_ref(text)
    if ref.ref is None:
        raise InvalidInputError(f"name the version to {verb}: NAME/VERSION or NAME@ALIAS")
    return _version(ref)


def _aliases(aliases: dict[str, int]) -> str:
    return ", ".join(f"{alias} → {number}" for alias, number in sorted(aliases.items()))


@group.command("ls")
@click.option("--name-like", help="Only names matching this SQL LIKE pattern (e.g. 'dig%').")
@json_option
def list_models(name_like: str | None, as_json: bool) -> None:
    """List registered models with their latest version and aliases."""
    s = store()
    models: list[RegisteredModel] = []
    token: str | None = None
    while True:
        page = s.list_registered_models(name_like, max_results=1000, page_token=token)
        models.extend(page.items)
        token = page.next_page_token
        if not token:
            break
    if as_json:
        print_json([model_to_json(model) for model in models])
        return
    rows = [
        [
            model.name,
            str(model.latest_version or "-"),
            _aliases(model.aliases),
            format_time(model.updated_at),
            model.description or "",
        ]
        for model in models
    ]
    print_table(["NAME", "LATEST", "ALIASES", "UPDATED", "DESCRIPTION"], rows, empty="No models.")


@group.command("versions")
@click.argument("name")
@click.option("--archived", is_flag=True, help="Only archived versions.")
@click.option("--ready", is_flag=True, help="Only versions that are not archived.")
@json_option
def versions(name: str, archived: bool, ready: bool, as_json: bool) -> None:
    """List the versions of model NAME, newest first."""
    if archived and ready:
        raise InvalidInputError("--archived and --ready exclude each other")
    status = (
        ModelVersionStatus.ARCHIVED if archived else ModelVersionStatus.READY if ready else None
    )
    found = store().list_model_versions(parse_model_ref(name).name, status)
    if as_json:
        print_json([version_to_json(v) for v in found])
        return
    print_table(*_version_rows(found), empty=f"Model {name} has no versions.")


def _version_rows(found: list[ModelVersion]) -> tuple[list[str], list[list[str]]]:
    columns = ["VERSION", "STATUS", "ALIASES", "FLAVOR", "RUN", "CREATED", "DESCRIPTION"]
    rows = [
        [
            str(v.version),
            v.status.value,
            ", ".join(sorted(v.aliases)),
            v.flavor or "-",
            short_id(v.run_id) if v.run_id else "-",
            format_time(v.created_at),
            v.description or "",
        ]
        for v in reversed(found)
    ]
    return columns, rows


@group.command("show")
@click.argument("ref")
@json_option
def show(ref: str, as_json: bool) -> None:
    """A model (NAME) with its versions and aliases, or one version (NAME/3, NAME@ALIAS)
    with its evaluations and promotion decisions."""
    parsed = parse_model_ref(ref)
    if parsed.ref is None and "@" not in ref and "/" not in ref.removeprefix("models:/"):
        _show_model(parsed.name, as_json)
    else:
        _show_version(_version(parsed), as_json)


def _show_model(name: str, as_json: bool) -> None:
    s = store()
    model = s.get_registered_model(name)
    found = s.list_model_versions(name)
    events = s.list_alias_events(name)
    if as_json:
        data = model_to_json(model)
        data["versions"] = [version_to_json(v) for v in found]
        data["alias_events"] = [event_to_json(e) for e in events]
        print_json(data)
        return
    out = console()
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for label, value in (
        ("Model", model.name),
        ("Description", model.description),
        ("Latest", str(model.latest_version) if model.latest_version else None),
        ("Aliases", _aliases(model.aliases)),
        ("Tags", ", ".join(f"{k}={v}" for k, v in sorted(model.tags.items()))),
        ("Created", format_time(model.created_at)),
        ("Updated", format_time(model.updated_at)),
    ):
        if value:
            grid.add_row(label, value)
    out.print(grid)
    out.print()
    print_table(*_version_rows(found), title="Versions", empty="Versions: none.")
    out.print()
    print_table(*_event_rows(events), title="Alias history", empty="Alias history: none.")


def _show_version(version: ModelVersion, as_json: bool) -> None:
    s = store()
    evaluations = s.list_evaluations(version.name, version.version)
    decisions = [
        d
        for d in s.list_promotion_decisions(version.name)
        if d.candidate_version == version.version
    ]
    if as_json:
        data = version_to_json(version)
        data["uri"] = version.uri
        data["evaluations"] = [evaluation_to_json(e) for e in evaluations]
        data["promotion_decisions"] = [decision_to_json(d) for d in decisions]
        print_json(data)
        return
    out = console()
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for label, value in (
        ("Version", version.uri),
        ("Status", version.status.value),
        ("Aliases", ", ".join(sorted(version.aliases))),
        ("Source", version.source),
        ("Run", version.run_id),
        ("Flavor", version.flavor),
        ("Package", version.package_digest),
        ("Description", version.description),
        ("Tags", ", ".join(f"{k}={v}" for k, v in sorted(version.tags.items()))),
        ("User", version.user),
        ("Created", format_time(version.created_at)),
    ):
        if value:
            grid.add_row(label, value)
    out.print(grid)
    out.print()
    rows = [
        [
            e.id[:8],
            f"datasets:/{e.dataset}/{e.dataset_version}" if e.dataset else f"{e.row_count} rows",
            e.task,
            ", ".join(f"{k} {v:.4g}" for k, v in list(e.metrics.items())[:6]),
            format_time(e.created_at),
        ]
        for e in evaluations
    ]
    print_table(
        ["ID", "DATA", "TASK", "METRICS", "CREATED"],
        rows,
        title="Evaluations",
        empty="Evaluations: none.",
    )
    out.print()
    decision_rows = [
        [
            d.alias,
            "promoted" if d.promoted else "refused",
            d.reason,
            format_time(d.created_at),
        ]
        for d in decisions
    ]
    print_table(
        ["ALIAS", "DECISION", "REASON", "WHEN"],
        decision_rows,
        title="Promotion decisions",
        empty="Promotion decisions: none.",
    )


def _event_rows(events: list[AliasEvent]) -> tuple[list[str], list[list[str]]]:
    rows = [
        [
            format_time(e.created_at),
            e.alias,
            "-" if e.from_version is None else str(e.from_version),
            "(removed)" if e.to_version is None else str(e.to_version),
            e.user or "-",
            e.reason or "",
        ]
        for e in events
    ]
    return ["WHEN", "ALIAS", "FROM", "TO", "USER", "REASON"], rows


@group.command("register")
@click.argument("source")
@click.argument("name")
@click.option("--description", "-d", help="What this version is.")
@click.option("--tag", "-t", "tags", multiple=True, help="KEY=VALUE (repeatable).")
def register(source: str, name: str, description: str | None, tags: tuple[str, ...]) -> None:
    """Register the model package SOURCE (runs:/<id>/model) as the next version of NAME."""
    from shipyard.models import register_model

    version = register_model(
        source, name, description=description, tags=_pairs(tags, "--tag"), client=client()
    )
    click.echo(f"Registered {version.uri} from {version.source}.")


def _pairs(items: tuple[str, ...], option: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise InvalidInputError(f"{option} takes KEY=VALUE, got {item!r}")
        pairs[key] = value
    return pairs


@group.command("alias")
@click.argument("name")
@click.argument("alias")
@click.argument("version", type=int, required=False)
@click.option("--delete", "delete", is_flag=True, help="Remove the alias.")
@click.option("--reason", "-r", help="Why: kept in the alias's history.")
@json_option
def alias(
    name: str, alias: str, version: int | None, delete: bool, reason: str | None, as_json: bool
) -> None:
    """Point ALIAS of model NAME at VERSION, remove it with --delete, or without either
    show its history."""
    from shipyard.tracking.context import current_user

    s = store()
    model = parse_model_ref(name).name
    if delete and version is not None:
        raise InvalidInputError("give a VERSION or --delete, not both")
    if delete:
        event = s.delete_model_alias(model, alias, user=current_user(), reason=reason)
        click.echo(f"Removed alias {alias} of {model} (it named version {event.from_version}).")
        return
    if version is None:
        events = s.list_alias_events(model, alias)
        if as_json:
            print_json([event_to_json(e) for e in events])
            return
        print_table(*_event_rows(events), empty=f"Alias {alias} of {model} has no history.")
        return
    event = s.set_model_alias(model, alias, version, user=current_user(), reason=reason)
    moved = "" if event.from_version in (None, version) else f" (was {event.from_version})"
    click.echo(f"Alias {alias} of {model} → version {version}{moved}.")


@group.command("history")
@click.argument("name")
@click.argument("alias", required=False)
@json_option
def history(name: str, alias: str | None, as_json: bool) -> None:
    """Every move of the model's aliases (or one alias), oldest first."""
    events = store().list_alias_events(parse_model_ref(name).name, alias)
    if as_json:
        print_json([event_to_json(e) for e in events])
        return
    print_table(*_event_rows(events), empty="No alias history.")


def _set_status(ref: str, status: ModelVersionStatus, verb: str) -> ModelVersion:
    version = _numbered(ref, verb)
    return store().update_model_version(version.name, version.version, status=status)


@group.command("archive")
@click.argument("ref")
def archive(ref: str) -> None:
    """Retire a version (NAME/3): kept, but it takes no alias. Move its aliases first."""
    version = _set_status(ref, ModelVersionStatus.ARCHIVED, "archive")
    click.echo(f"Archived {version.uri}.")


@group.command("unarchive")
@click.argument("ref")
def unarchive(ref: str) -> None:
    """Bring an archived version (NAME/3) back: it can take aliases again."""
    version = _set_status(ref, ModelVersionStatus.READY, "unarchive")
    click.echo(f"Unarchived {version.uri}.")


@group.command("download")
@click.argument("ref")
@click.argument("dest", type=click.Path(path_type=Path))
def download(ref: str, dest: Path) -> None:
    """Write the package files of REF (NAME/3, NAME@ALIAS, runs:/<id>/model) into DEST."""
    from .models_common import download_package

    written = download_package(client(), ref, dest)
    click.echo(f"Wrote {len(written)} file(s) to {dest}: {', '.join(sorted(written))}")


def _register_subcommands() -> None:
    from . import models_gate, models_lineage

    group.add_command(models_gate.evaluate_command)
    group.add_command(models_gate.promote_command)
    group.add_command(models_lineage.lineage_command)


_register_subcommands()
