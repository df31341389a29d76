"""How the tracking commands print: rich tables for people, ``--json`` for scripts.

JSON output uses the REST API's shapes (:mod:`shipyard.store.rest.codec`):
times are integer milliseconds since the epoch, and NaN/inf metric values are
the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` so that every output
parses as standard JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from collections.abc import Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from shipyard.tracking.client import Client

__all__ = [
    "client",
    "console",
    "format_duration",
    "format_size",
    "format_time",
    "format_value",
    "json_option",
    "print_json",
    "print_table",
    "short_id",
]

json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print JSON for scripts (times in ms; NaN and inf as "NaN", "Infinity", "-Infinity").',
)


def client() -> Client:
    """The client of the current command, closed when the command ends."""
    ctx = click.get_current_context()
    found = ctx.find_object(Client)
    if found is None:
        found = ctx.ensure_object(Client)
        ctx.call_on_close(found.close)
    return found


def console() -> Console:
    # Outside a terminal, no wrapping: each row stays on one line for grep and friends.
    out = sys.stdout
    tty = out.isatty()
    return Console(file=out, width=None if tty else 10_000, soft_wrap=not tty)


def print_json(data: Any) -> None:
    click.echo(json.dumps(_finite(data), indent=2, ensure_ascii=False))


def _finite(data: Any) -> Any:
    if isinstance(data, float) and not math.isfinite(data):
        return "NaN" if math.isnan(data) else ("Infinity" if data > 0 else "-Infinity")
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(value) for value in data]
    return data


def print_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[str | Text]],
    title: str | None = None,
    empty: str = "Nothing to show.",
) -> None:
    out = console()
    if not rows:
        click.echo(empty)
        return
    table = Table(title=title, title_justify="left", header_style="bold", box=None, pad_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    out.print(table)


def short_id(run_id: str) -> str:
    return run_id[:8]


def format_time(ms: int | None) -> str:
    if ms is None:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def format_duration(ms: int | None) -> str:
    if ms is None:
        return "-"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def format_value(value: float | str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return value


def format_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    amount = size / 1024
    units = ["KiB", "MiB", "GiB", "TiB"]
    while amount >= 1024 and len(units) > 1:
        amount /= 1024
        units.pop(0)
    return f"{amount:.1f} {units[0]}"
