"""``shipyard data add|ls|show|diff|get|tag|untag|rm|restore``: versioned datasets.

Versions are named ``NAME`` (the latest), ``NAME@3`` or ``NAME@TAG``, or by
URI: ``datasets:/NAME/3``, ``datasets:/NAME@TAG``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from shipyard.data.add import add_path
from shipyard.data.api import resolve_in
from shipyard.data.checkout import LinkMode, checkout
from shipyard.data.diff import DatasetDiff, diff_versions
from shipyard.data.manifest import read_manifest
from shipyard.data.uris import parse_dataset_ref
from shipyard.entities import DatasetVersion, LifecycleStage, ViewType
from shipyard.errors import ConflictError, InvalidInputError, NotFoundError
from shipyard.store.rest.codec import dataset_to_json, dataset_version_to_json

from .output import (
    client,
    console,
    format_size,
    format_time,
    json_option,
    print_json,
    print_table,
    short_id,
)

__all__ = ["group"]

DEFAULT_SHOWN_FILES = 20
MAX_SHOWN_SKIPPED = 20
quiet_option = click.option(
    "--quiet", "-q", is_flag=True, help="No progress bars (they show only on a terminal anyway)."
)


@click.group("data")
def group() -> None:
    """Version datasets: add files, list, inspect, compare and fetch versions."""


def _version(ref_text: str) -> DatasetVersion:
    return resolve_in(client().store, ref_text)


def _numbered(ref_text: str, verb: str) -> DatasetVersion:
    """A version the user named explicitly (``NAME@N`` or ``NAME@TAG``), never just ``NAME``."""
    if parse_dataset_ref(ref_text).ref is None:
        raise InvalidInputError(f"name the version to {verb}: NAME@VERSION or NAME@TAG")
    return _version(ref_text)


def _quiet(quiet: bool) -> bool | None:
    return True if quiet else None


@group.command("add")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--name", "-n", required=True, help="Dataset name (letters, digits, _ - .).")
@click.option("--message", "-m", help="What changed in this version.")
@click.option("--tag", "-t", "tags", multiple=True, help="Label for the version (repeatable).")
@click.option(
    "--strict", is_flag=True, help="Refuse, instead of skip, files that cannot be stored."
)
@quiet_option
def add(
    path: Path, name: str, message: str | None, tags: tuple[str, ...], strict: bool, quiet: bool
) -> None:
    """Store the file or folder PATH as a new version of dataset NAME."""
    c = client()
    result = add_path(
        c.store, c.blob_store, path, name, message, tags, strict=strict, quiet=_quiet(quiet)
    )
    found = result.scan
    if found.skipped:
        click.echo(f"Skipped {len(found.skipped)} file(s) that cannot be stored:", err=True)
        for item in found.skipped[:MAX_SHOWN_SKIPPED]:
            click.echo(f"  {item}", err=True)
        if len(found.skipped) > MAX_SHOWN_SKIPPED:
            click.echo(f"  ... and {len(found.skipped) - MAX_SHOWN_SKIPPED} more", err=True)
    version = result.version
    manifest = found.manifest
    hashing = f"hashed {found.hashed} file(s), {found.cached} unchanged since last seen"
    if not result.created:
        click.echo(
            f"Unchanged: {version.uri} already holds this content; no new version ({hashing})."
        )
        return
    click.echo(
        f"Added {version.uri}: {len(manifest)} file(s), {format_size(manifest.total_size)}; "
        f"uploaded {result.uploaded_files} new blob(s), {format_size(result.uploaded_bytes)} "
        f"({hashing})."
    )


@group.command("ls")
@click.argument("name", required=False)
@click.option("--all", "show_all", is_flag=True, help="Include deleted datasets or versions.")
@json_option
def list_data(name: str | None, show_all: bool, as_json: bool) -> None:
    """List datasets, or the versions of dataset NAME."""
    store = client().store
    view = ViewType.ALL if show_all else ViewType.ACTIVE
    if name is None:
        datasets = []
        token: str | None = None
        while True:
            page = store.list_datasets(view, max_results=1000, page_token=token)
            datasets.extend(page.items)
            token = page.next_page_token
            if not token:
                break
        if as_json:
            print_json([dataset_to_json(d) for d in datasets])
            return
        rows = [
            [d.name, str(d.latest_version or "-"), format_time(d.updated_at), d.description or ""]
            for d in datasets
        ]
        print_table(["NAME", "LATEST", "UPDATED", "DESCRIPTION"], rows, empty="No datasets.")
        return
    versions = store.list_dataset_versions(name, view)
    if as_json:
        print_json([dataset_version_to_json(v) for v in versions])
        return
    print_table(
        ["VERSION", "TAGS", "FILES", "SIZE", "CREATED", "AUTHOR", "MESSAGE"],
        [
            [
                str(v.version)
                + (" (deleted)" if v.lifecycle_stage is LifecycleStage.DELETED else ""),
                ", ".join(v.tags),
                str(v.file_count),
                format_size(v.total_size),
                format_time(v.created_at),
                v.author or "-",
                v.message or "",
            ]
            for v in reversed(versions)
        ],
        empty=f"Dataset {name} has no versions.",
    )


def _version_label(version: DatasetVersion) -> str:
    deleted = version.lifecycle_stage is LifecycleStage.DELETED
    return str(version.version) + (" (deleted)" if deleted else "")


@group.command("show")
@click.argument("ref")
@click.option(
    "--files",
    "-f",
    "shown_files",
    type=int,
    default=DEFAULT_SHOWN_FILES,
    show_default=True,
    help="How many files to list.",
)
@json_option
def show(ref: str, shown_files: int, as_json: bool) -> None:
    """A version's files, size, message, parent, tags, profile and the runs that used it."""
    c = client()
    version = _version(ref)
    manifest = read_manifest(c.blob_store, version.manifest_digest)
    runs = c.store.get_dataset_version_runs(version.dataset, version.version)
    if as_json:
        data = dataset_version_to_json(version)
        data["uri"] = version.uri
        data["files"] = [e.to_json() for e in manifest.entries[: max(shown_files, 0)]]
        data["runs"] = runs
        print_json(data)
        return
    out = console()
    out.print(_overview(version, runs))
    rows = [
        [e.path, format_size(e.size), e.digest[:12], "x" if e.executable else ""]
        for e in manifest.entries[: max(shown_files, 0)]
    ]
    out.print()
    hidden = len(manifest) - len(rows)
    title = f"Files ({len(manifest)})" + (f", first {len(rows)}" if hidden > 0 else "")
    print_table(["PATH", "SIZE", "DIGEST", "EXEC"], rows, title=title, empty="Files: none.")
    profile_rows = _profile_rows(version.profile)
    if profile_rows:
        out.print()
        print_table(["TABLE", "ROWS", "COLUMNS"], profile_rows, title="Profile")
    out.print()
    run_rows = [[short_id(run_id), run_id] for run_id in runs]
    print_table(["RUN", "ID"], run_rows, title="Used by runs", empty="Used by runs: none.")


def _overview(version: DatasetVersion, runs: list[str]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    deleted = " (deleted)" if version.lifecycle_stage is LifecycleStage.DELETED else ""
    rows: list[tuple[str, str | None]] = [
        ("Version", f"{version.uri}{deleted}"),
        ("Tags", ", ".join(version.tags) or None),
        ("Message", version.message),
        ("Parent", str(version.parent_version) if version.parent_version else None),
        ("Author", version.author),
        ("Created", format_time(version.created_at)),
        ("Files", str(version.file_count)),
        ("Size", format_size(version.total_size)),
        ("Manifest", version.manifest_digest),
        ("Runs", str(len(runs))),
    ]
    for label, value in rows:
        if value:
            grid.add_row(label, value)
    return grid


def _profile_rows(profile: dict[str, Any] | None) -> list[list[str]]:
    files = profile.get("files") if isinstance(profile, dict) else None
    if not isinstance(files, dict):
        return []
    rows = []
    for path, table in sorted(files.items()):
        if not isinstance(table, dict):
            continue
        columns = table.get("columns")
        names = list(columns) if isinstance(columns, dict) else []
        if isinstance(columns, list):
            names = [str(c.get("name")) for c in columns if isinstance(c, dict)]
        shown = ", ".join(names[:8]) + (f" (+{len(names) - 8})" if len(names) > 8 else "")
        rows.append([str(path), str(table.get("row_count", "-")), shown])
    return rows


@group.command("diff")
@click.argument("old")
@click.argument("new")
@json_option
def diff(old: str, new: str, as_json: bool) -> None:
    """Files added, removed and modified from OLD to NEW (e.g. mnist@1 mnist@2)."""
    c = client()
    result = diff_versions(c.blob_store, _version(old), _version(new))
    if as_json:
        print_json(result.to_json())
        return
    _print_diff(result)


def _print_diff(result: DatasetDiff) -> None:
    if result.is_empty:
        click.echo(f"No differences between {result.old} and {result.new}.")
        return
    rows = [["+", e.path, format_size(e.size)] for e in result.added]
    rows += [["-", e.path, format_size(e.size)] for e in result.removed]
    rows += [
        ["M", new.path, f"{format_size(old.size)} -> {format_size(new.size)}"]
        for old, new in result.modified
    ]
    rows.sort(key=lambda row: row[1])
    print_table(["", "PATH", "SIZE"], rows, title=f"{result.old} -> {result.new}")
    click.echo(
        f"{len(result.added)} added, {len(result.removed)} removed, "
        f"{len(result.modified)} modified, {result.unchanged} unchanged."
    )
    for change in result.tables:
        click.echo(f"Table {change.path}: rows {change.rows_before} -> {change.rows_after}")
        for column, kind in change.columns_added.items():
            click.echo(f"  + column {column} ({kind})")
        for column, kind in change.columns_removed.items():
            click.echo(f"  - column {column} ({kind})")
        for column, (before, after) in change.types_changed.items():
            click.echo(f"  ~ column {column}: {before} -> {after}")


@group.command("get")
@click.argument("ref")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--hardlink",
    is_flag=True,
    help="Hard-link the store's read-only blob files instead of copying (local stores; "
    "never edit the files).",
)
@quiet_option
def get(ref: str, dest: Path, hardlink: bool, quiet: bool) -> None:
    """Write the files of a version (NAME, NAME@VERSION, NAME@TAG) into DEST, verified."""
    c = client()
    version = _version(ref)
    if version.lifecycle_stage is LifecycleStage.DELETED:
        raise InvalidInputError(f"{version.uri} is deleted; restore it first")
    link: LinkMode = "hardlink" if hardlink else "auto"
    result = checkout(c.blob_store, version, dest, link=link, quiet=_quiet(quiet))
    click.echo(
        f"Checked out {version.uri} into {result.dest}: {result.written} file(s) written, "
        f"{result.present} already in place."
    )


@group.command("tag")
@click.argument("ref")
@click.argument("tag")
def tag(ref: str, tag: str) -> None:
    """Label the version REF (NAME@VERSION) with TAG, moving TAG off any other version."""
    version = _numbered(ref, "tag")
    client().store.tag_dataset_version(version.dataset, version.version, tag)
    click.echo(f"Tagged {version.uri} as {tag}.")


@group.command("untag")
@click.argument("name")
@click.argument("tag")
def untag(name: str, tag: str) -> None:
    """Remove the label TAG from dataset NAME."""
    client().store.untag_dataset_version(name, tag)
    click.echo(f"Removed tag {tag} from {name}.")


@group.command("rm")
@click.argument("ref")
def remove(ref: str) -> None:
    """Delete the version REF (NAME@VERSION); `shipyard gc` later frees its unshared blobs."""
    version = _numbered(ref, "delete")
    client().store.delete_dataset_version(version.dataset, version.version)
    click.echo(f"Deleted {version.uri} (restore undoes it until `shipyard gc` runs).")


@group.command("restore")
@click.argument("ref")
def restore(ref: str) -> None:
    """Restore the deleted version REF (NAME@VERSION)."""
    version = _numbered(ref, "restore")
    c = client()
    try:
        manifest = read_manifest(c.blob_store, version.manifest_digest)
        absent = c.blob_store.missing(manifest.digests())
    except NotFoundError:
        absent = {version.manifest_digest}
    if absent:
        raise ConflictError(
            f"cannot restore {version.uri}: {len(absent)} of its blobs were removed by "
            "`shipyard gc`; add the files again instead"
        )
    c.store.restore_dataset_version(version.dataset, version.version)
    click.echo(f"Restored {version.uri}.")
