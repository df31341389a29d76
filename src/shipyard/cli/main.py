"""The ``shipyard`` command: groups are registered here; errors are rendered once."""

from __future__ import annotations

import importlib
from typing import Any

import click

from shipyard._version import __version__
from shipyard.errors import ShipyardError


class ShipyardGroup(click.Group):
    """Renders every :class:`ShipyardError` as one ``Error: ...`` line, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ShipyardError as exc:
            click.echo(f"Error: {exc.message}", err=True)
            ctx.exit(exc.exit_code)
        except OSError as exc:  # a missing folder, a full disk, a refused permission
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("Aborted.", err=True)
            ctx.exit(130)


@click.group(cls=ShipyardGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="shipyard")
def cli() -> None:
    """Shipyard: track experiments, version data and models, serve and monitor them.

    The store is chosen by SHIPYARD_URI (a server URL, a database URL or a
    folder); with nothing set it is ./.shipyard in the current directory.
    """


def _register_commands() -> None:
    # Imported here so that `shipyard --help` lists every group and a broken
    # optional part names itself instead of breaking the whole command.
    from shipyard.cli import artifacts, data, demo, experiments, gc, models, runs, server

    cli.add_command(experiments.group)
    cli.add_command(runs.group)
    cli.add_command(artifacts.group)
    cli.add_command(data.group)
    cli.add_command(gc.command)
    cli.add_command(server.command)
    cli.add_command(demo.command)
    cli.add_command(models.group)
    cli.add_command(importlib.import_module("shipyard.cli.serve").command)
    cli.add_command(importlib.import_module("shipyard.cli.predict").command)
    cli.add_command(importlib.import_module("shipyard.cli.build").command)
    cli.add_command(importlib.import_module("shipyard.cli.monitor").group)


_register_commands()


def main() -> None:
    cli(prog_name="shipyard")


if __name__ == "__main__":
    main()
