"""The ``sixbtc`` command.

``--home PATH`` is a global option that may come before or after the command
(``sixbtc --home X status`` and ``sixbtc status --home X`` are the same). Flags are shown
without a value type in ``--help``. The ``data`` commands are loaded when used, so the
other commands start without importing ccxt.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import typer
from typer.core import TyperGroup

from sixbtc.app.home import resolve_home
from sixbtc.cli import init_cmd, pool_cmd, run_cmd, status_cmd, validate_cmd

GLOBAL_OPTION = "--home"
#: Sub-command groups imported on first use: name -> (module, Typer attribute).
LAZY_GROUPS = {"data": ("sixbtc.cli.data_cmd", "data_app")}


def hoist_global_option(args: list[str]) -> list[str]:
    """Move every ``--home VALUE`` / ``--home=VALUE`` before the command (not after ``--``)."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg == GLOBAL_OPTION:  # with its value (a missing one is reported by the root)
            front.extend(args[i : i + 2])
            i += 2
            continue
        if arg.startswith(GLOBAL_OPTION + "="):
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


def _quiet_flags(command: typer.main.click.Command, ctx: typer.Context) -> None:
    """Show flags (``--json``, ``--help``) without a ``<bool>`` value type, in every sub-command."""
    for param in command.get_params(ctx):
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    for sub in getattr(command, "commands", {}).values():
        _quiet_flags(sub, ctx)


class SixbtcGroup(TyperGroup):
    """The root command: global ``--home`` anywhere, lazily loaded groups, quiet flags."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        _quiet_flags(self, ctx)
        return super().parse_args(ctx, hoist_global_option(list(args)))

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in LAZY_GROUPS if n not in self.commands)]

    def get_command(self, ctx: typer.Context, cmd_name: str) -> typer.main.click.Command | None:
        if cmd_name in LAZY_GROUPS and cmd_name not in self.commands:
            module, attr = LAZY_GROUPS[cmd_name]
            group = typer.main.get_group(getattr(importlib.import_module(module), attr))
            group.name = cmd_name
            _quiet_flags(group, ctx)
            self.add_command(group, cmd_name)
        return super().get_command(ctx, cmd_name)


app = typer.Typer(cls=SixbtcGroup, no_args_is_help=True, add_completion=False,
                  help="SixBTC: an unattended strategy factory for crypto perpetual futures.")


@app.callback()
def main(ctx: typer.Context,
         home: Path | None = typer.Option(None, GLOBAL_OPTION, help="Home directory (default ./.sixbtc or "
                                          "$SIXBTC_HOME); before or after the command.")) -> None:
    """Resolve the home directory for every command."""
    ctx.obj = resolve_home(home)


app.command("init")(init_cmd.init)
app.command("run")(run_cmd.run)
app.command("status")(status_cmd.status)
app.command("pool")(pool_cmd.pool)
app.command("validate")(validate_cmd.validate_file)

if __name__ == "__main__":  # pragma: no cover
    app()
