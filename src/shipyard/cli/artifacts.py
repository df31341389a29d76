"""``shipyard artifacts ls|get``: a run's files, listed and downloaded (verified)."""

from __future__ import annotations

from pathlib import Path

import click

from shipyard.store.rest.codec import artifact_to_json

from .output import client, format_size, json_option, print_json, print_table

__all__ = ["group"]


@click.group("artifacts")
def group() -> None:
    """List and download the files of a run."""


@group.command("ls")
@click.argument("run_id")
@click.argument("path", required=False)
@json_option
def list_artifacts(run_id: str, path: str | None, as_json: bool) -> None:
    """List the files of RUN_ID (below PATH, a file or folder, when given)."""
    entries = client().list_artifacts(run_id, path)
    if as_json:
        print_json([artifact_to_json(entry) for entry in entries])
        return
    rows = [[e.path, format_size(e.size), e.digest[:16]] for e in entries]
    print_table(["PATH", "SIZE", "DIGEST"], rows, empty="No artifacts.")


@group.command("get")
@click.argument("run_id")
@click.argument("path", required=False)
@click.option(
    "--dest",
    "-d",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder to download into; files keep their artifact paths below it.",
)
def get(run_id: str, path: str | None, dest: Path) -> None:
    """Download the files of RUN_ID (all, or the file or folder PATH), verifying each."""
    c = client()
    full = c.resolve_run_id(run_id)
    count = len(c.list_artifacts(full, path))
    target = c.download_artifacts(full, path, dest)
    click.echo(f"Downloaded {count} file(s) to {target}")
