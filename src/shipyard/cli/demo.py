"""``shipyard demo``: the digits story, from versioned data to a watched model server."""

from __future__ import annotations

import os
import sys

import click
from rich.console import Console

from shipyard.validation import validate_name


@click.command("demo")
@click.option(
    "--quick",
    is_flag=True,
    help="A tiny sweep (a few small models on part of the data) that runs in seconds.",
)
@click.option(
    "--experiment",
    default="digits",
    show_default=True,
    help="The experiment the runs go to.",
)
@click.option(
    "--uri",
    default=None,
    help="Where to track (like SHIPYARD_URI). Default: ./.shipyard in the current folder.",
)
@click.option("--seed", default=0, show_default=True, help="Seed of the data split and models.")
@click.option("--top", default=10, show_default=True, help="Rows of the leaderboard to print.")
def command(quick: bool, experiment: str, uri: str | None, seed: int, top: int) -> None:
    """Train several kinds of digit classifier with several settings each, track every
    run, print the leaderboard and the best run's params, metrics, code version and
    environment; promote the best model to production through the evaluation gate (a
    weaker one is refused), serve it, send it normal then drifted traffic, and print the
    monitoring reports."""
    # Imported here: scikit-learn is an optional extra and slow to import.
    from shipyard.demo import DemoConfig, run_demo

    validate_name(experiment, "experiment name")
    if uri is not None:
        # The Python API reads the store from the environment, as a user's script would.
        os.environ["SHIPYARD_URI"] = uri
    # Piped (a CI log, `make demo | less`): wide enough that the tables do not wrap.
    console = Console(width=None if sys.stdout.isatty() else 120)
    run_demo(DemoConfig(experiment=experiment, quick=quick, seed=seed), console, shown=top)
