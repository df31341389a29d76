"""``shipyard gc [--dry-run]``: remove blobs no dataset version, run or model refers to."""

from __future__ import annotations

import click

from shipyard.data.gc import DEFAULT_GRACE_SECONDS, collect_garbage
from shipyard.errors import InvalidInputError
from shipyard.store.artifacts import FsspecBlobStore

from .output import client, format_size, json_option, print_json

__all__ = ["command"]


@click.command("gc")
@click.option("--dry-run", is_flag=True, help="Only report what would be removed.")
@click.option(
    "--grace",
    "grace_seconds",
    type=click.FloatRange(min=0),
    default=DEFAULT_GRACE_SECONDS,
    show_default=True,
    help="Spare blobs younger than this many seconds (an add may still be uploading them).",
)
@json_option
def command(dry_run: bool, grace_seconds: float, as_json: bool) -> None:
    """Remove blobs that no live dataset version, run artifact or model refers to."""
    c = client()
    if c.settings.kind == "rest":
        raise InvalidInputError(
            "gc needs direct access to the blob store: run `shipyard gc` on the server host, "
            "with SHIPYARD_URI and SHIPYARD_ARTIFACTS set to the server's --store and --artifacts"
        )
    blobs = c.blob_store
    if not isinstance(blobs, FsspecBlobStore):
        raise InvalidInputError(f"gc cannot list the blobs of {blobs!r}")
    result = collect_garbage(c.store, blobs, dry_run=dry_run, grace_seconds=grace_seconds)
    if as_json:
        print_json(
            {
                "dry_run": dry_run,
                "stored": result.stored,
                "referenced": result.referenced,
                "removed": [blob.digest for blob in result.removed],
                "freed_bytes": result.freed_bytes,
                "spared_young": result.spared_young,
                "packs_removed": result.packs.removed_packs,
                "packs_rewritten": result.packs.rewritten_packs,
                "packs_reindexed": result.packs.reindexed_packs,
                "pack_bytes_freed": result.packs.freed_bytes,
                "pack_index_rows_dropped": result.packs.dropped_rows,
                "corrupt": result.packs.corrupt,
                "errors": result.packs.errors,
            }
        )
        return
    verb = "Would remove" if dry_run else "Removed"
    click.echo(
        f"{verb} {len(result.removed)} of {result.stored} blob(s), "
        f"{format_size(result.freed_bytes)}; {result.spared_young} unreferenced blob(s) "
        f"younger than {grace_seconds:g}s spared."
    )
    packed = sum(1 for blob in result.removed if blob.packed)
    if dry_run and packed:
        click.echo(
            f"{packed} of them are in pack files: their space comes back when gc rewrites "
            "or removes their packs (not counted above)."
        )
    packs = result.packs
    if packs.removed_packs or packs.rewritten_packs or packs.reindexed_packs:
        click.echo(
            f"Pack files: {packs.removed_packs} removed, {packs.rewritten_packs} rewritten, "
            f"{packs.reindexed_packs} indexed again, {format_size(packs.freed_bytes)} freed."
        )
    if packs.dropped_rows:
        click.echo(
            f"Warning: {packs.dropped_rows} packed blob(s) had lost their pack file; "
            "adding their content again stores it again.",
            err=True,
        )
    for digest in packs.corrupt:
        click.echo(f"Warning: packed blob {digest} is corrupt; it was left in place.", err=True)
    for error in packs.errors:
        click.echo(f"Warning: could not rewrite pack {error}", err=True)
