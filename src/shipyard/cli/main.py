"""The ``shipyard`` command: groups are registered here; errors are rendered once."""

from __future__ import annotations

import importlib
from typing import Any

import click

from shipyard._version import __version__
from shipyard.errors import ShipyardError

# Command name -> (module, attribute). Imported on first use: a command pays
# only for what it needs (`shipyard data add` does not load the model server).
COMMANDS: dict[str, tuple[str, str]] = {
    "experiments": ("shipyard.cli.experiments", "group"),
    "runs": ("shipyard.cli.runs", "group"),
    "artifacts": ("shipyard.cli.artifacts", "group"),
    "data": ("shipyard.cli.data", "group"),
    "gc": ("shipyard.cli.gc", "command"),
    "server": ("shipyard.cli.server", "command"),
    "demo": ("shipyard.cli.demo", "command"),
    "models": ("shipyard.cli.models", "group"),
    "serve": ("shipyard.cli.serve", "command"),
    "predict": ("shipyard.cli.predict", "command"),
    "build": ("shipyard.cli.build", "command"),
    "monitor": ("shipyard.cli.monitor", "group"),
}


class ShipyardGroup(click.Group):
    """Loads its commands lazily; renders every :class:`ShipyardError` as one
    ``Error: ...`` line, never a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return self.commands.get(cmd_name)
        module, attribute = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{module}.{attribute} is not a click command")
        self.add_command(command, cmd_name)
        return command

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


def main() -> None:
    cli(prog_name="shipyard")


if __name__ == "__main__":
    main()
