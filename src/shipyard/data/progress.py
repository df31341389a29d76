"""Progress bars for hashing, upload and download (rich, on stderr).

Shown only to a person: ``quiet=None`` means "when stderr is a terminal", so
scripts, pipes and tests stay silent. ``advance`` may be called from any thread.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Literal

__all__ = ["Advance", "progress_bar", "wants_progress"]

Advance = Callable[[int], None]


def wants_progress(quiet: bool | None) -> bool:
    if quiet is not None:
        return not quiet
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _ignore(amount: int) -> None:
    del amount


@contextlib.contextmanager
def progress_bar(
    description: str,
    total: int,
    *,
    unit: Literal["bytes", "files"] = "bytes",
    quiet: bool | None = None,
) -> Iterator[Advance]:
    """A bar from 0 to ``total``; yields ``advance(amount)``. A no-op when not shown."""
    if not wants_progress(quiet) or total <= 0:
        yield _ignore
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    amount_columns = (
        (DownloadColumn(), TransferSpeedColumn()) if unit == "bytes" else (MofNCompleteColumn(),)
    )
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        *amount_columns,
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as progress:
        task = progress.add_task(description, total=total)

        def advance(amount: int) -> None:
            progress.advance(task, amount)

        yield advance
