"""``shipyard experiments ls|create|rename|delete|restore``."""

from __future__ import annotations

import click

from shipyard.entities import ViewType
from shipyard.errors import InvalidInputError
from shipyard.store.rest.codec import experiment_to_json
from shipyard.validation import validate_key, validate_tag_value

from .output import client, format_time, json_option, print_json, print_table

__all__ = ["group"]


@click.group("experiments")
def group() -> None:
    """List and manage experiments (groups of runs)."""


@group.command("ls")
@click.option("--all", "show_all", is_flag=True, help="Include deleted experiments.")
@click.option("--deleted", "only_deleted", is_flag=True, help="Only deleted experiments.")
@json_option
def list_experiments(show_all: bool, only_deleted: bool, as_json: bool) -> None:
    """List experiments by name."""
    if show_all and only_deleted:
        raise InvalidInputError("--all and --deleted exclude each other")
    view = ViewType.ALL if show_all else ViewType.DELETED if only_deleted else ViewType.ACTIVE
    found = list(client().iter_experiments(view))
    if as_json:
        print_json([experiment_to_json(e) for e in found])
        return
    with_stage = view is not ViewType.ACTIVE
    columns = ["NAME", "ID", "CREATED", *(["STAGE"] if with_stage else []), "TAGS"]
    rows = [
        [
            e.name,
            e.id,
            format_time(e.created_at),
            *([e.lifecycle_stage.value] if with_stage else []),
            ", ".join(f"{k}={v}" for k, v in sorted(e.tags.items())),
        ]
        for e in found
    ]
    print_table(columns, rows, empty="No experiments.")


def _parse_tags(pairs: tuple[str, ...]) -> dict[str, str]:
    tags = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise InvalidInputError(f"tag {pair!r} must look like KEY=VALUE")
        tags[validate_key(key, "tag key")] = validate_tag_value(value, key)
    return tags


@group.command("create")
@click.argument("name")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="Tag (repeatable).")
@json_option
def create(name: str, tags: tuple[str, ...], as_json: bool) -> None:
    """Create an experiment and print its id."""
    experiment = client().store.create_experiment(name, _parse_tags(tags))
    if as_json:
        print_json(experiment_to_json(experiment))
    else:
        click.echo(experiment.id)


@group.command("rename")
@click.argument("experiment")
@click.argument("new_name")
def rename(experiment: str, new_name: str) -> None:
    """Rename EXPERIMENT (a name or an id) to NEW_NAME."""
    c = client()
    found = c.get_experiment(experiment)
    c.store.rename_experiment(found.id, new_name)
    click.echo(f"Renamed experiment {found.name!r} to {new_name!r}.")


@group.command("delete")
@click.argument("experiment")
def delete(experiment: str) -> None:
    """Delete EXPERIMENT and hide its runs (restore undoes it)."""
    c = client()
    found = c.get_experiment(experiment)
    c.store.delete_experiment(found.id)
    click.echo(f"Deleted experiment {found.name!r}.")


@group.command("restore")
@click.argument("experiment")
def restore(experiment: str) -> None:
    """Restore a deleted EXPERIMENT with its runs."""
    c = client()
    found = c.get_experiment(experiment)
    c.store.restore_experiment(found.id)
    click.echo(f"Restored experiment {found.name!r}.")
