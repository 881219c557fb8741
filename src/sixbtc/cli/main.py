"""The ``sixbtc`` command.

``--home PATH`` is a global option that may come before or after the command
(``sixbtc --home X status`` and ``sixbtc status --home X`` are the same). Flags are shown
without a value type in ``--help``. The ``data`` commands are loaded when used, so the
other commands start without importing ccxt.

No error ends in a traceback: usage errors are click's message (with ``--json``: a JSON
object), and an unexpected exception is one line ``unexpected error: Type: message`` with
exit code 1 (``SIXBTC_TRACEBACK=1`` shows the traceback instead, for a bug report).
"""

from __future__ import annotations

import errno
import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from sixbtc.app.home import resolve_home
from sixbtc.cli import (
    accounts_cmd,
    api_cmd,
    backtest_cmd,
    generate_cmd,
    init_cmd,
    pool_cmd,
    retest_cmd,
    rotate_cmd,
    run_cmd,
    scheduler_cmd,
    status_cmd,
    supervisor_cmd,
    trading_cmd,
    validate_cmd,
    worker_cmd,
)
from sixbtc.cli.context import json_requested, report_error, set_json_errors

GLOBAL_OPTION = "--home"
JSON_FLAG = "--json"
#: Set to 1 to see the traceback of an unexpected error instead of its one line.
TRACEBACK_VARIABLE = "SIXBTC_TRACEBACK"
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
        if arg == GLOBAL_OPTION:  # with its value
            if i + 1 == len(args):
                return [GLOBAL_OPTION]  # no value: the root says "requires an argument"
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
        set_json_errors(_wants_json(list(args)))
        with _json_usage_errors():
            return super().parse_args(ctx, hoist_global_option(list(args)))

    def invoke(self, ctx: typer.Context) -> Any:
        with _json_usage_errors():
            try:
                return super().invoke(ctx)
            except (typer.TyperException, typer.Exit, typer.Abort):
                raise  # click's usage errors and our exits
            except Exception as exc:  # noqa: BLE001 - the promise: never a traceback
                if os.environ.get(TRACEBACK_VARIABLE) == "1" or getattr(exc, "errno", None) == errno.EPIPE:
                    raise  # a closed pipe is click's to handle quietly
                _unexpected(exc)

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


def _unexpected(exc: BaseException) -> None:
    report_error(f"{type(exc).__name__}: {exc} (a bug: set {TRACEBACK_VARIABLE}=1 to see the traceback)", 1,
                 "unexpected error")


@contextmanager
def _json_usage_errors() -> Iterator[None]:
    """With ``--json``, a usage error (bad option, missing argument) is printed as JSON too
    (``validate``'s and ``backtest``'s with their ``file`` and ``passed`` keys)."""
    try:
        yield
    except typer.TyperException as exc:  # click's exceptions (vendored by typer)
        if not json_requested():
            raise
        cmd = getattr(getattr(exc, "ctx", None), "info_name", None)
        extra = {"file": None, "passed": False} if cmd in ("validate", "backtest") else {}
        report_error(exc.format_message(), getattr(exc, "exit_code", 2), "usage error", **extra)


def _wants_json(args: list[str]) -> bool:
    """True when ``--json`` is among ``args`` (before a ``--``)."""
    return JSON_FLAG in (args[: args.index("--")] if "--" in args else args)


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
app.command("backtest")(backtest_cmd.backtest)
app.command("emergency-stop")(trading_cmd.emergency_stop)
app.command("resume")(trading_cmd.resume)
app.command("accounts")(accounts_cmd.accounts)
app.command("api")(api_cmd.api)
app.command("worker")(worker_cmd.worker)
app.command("scheduler")(scheduler_cmd.scheduler)
app.command("generate")(generate_cmd.generate)
app.command("retest")(retest_cmd.retest)
app.command("rotate")(rotate_cmd.rotate)
app.command("supervisor-config")(supervisor_cmd.supervisor_config)
app.command("supervisor-listener", hidden=True)(supervisor_cmd.supervisor_listener)

if __name__ == "__main__":  # pragma: no cover
    app()
