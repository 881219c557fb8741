"""``sixbtc supervisor-config`` (write the supervisord configuration) and
``sixbtc supervisor-listener`` (the crash event listener supervisord runs; not for people)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from sixbtc.cli.context import console, friendly_errors, open_container


def supervisor_config(ctx: typer.Context,
                      output: Path | None = typer.Option(None, "--output", "-o",
                                                         help="File to write (default HOME/supervisord.conf)."),
                      run_dir: Path | None = typer.Option(None, "--run-dir",
                                                          help="Directory of the control socket and pid file (default HOME/run)."),
                      live: bool = typer.Option(False, "--live", help="The executor trades for real (`sixbtc worker "
                                                "executor --live`); needs executor.dry_run: false as well.")) -> None:
    """Write a supervisord configuration running every role as its own process (README "Running in production")."""
    from sixbtc.app.supervisor import available_roles, write_config

    c = open_container(ctx)
    with friendly_errors():
        path = write_config(c, output, run_dir, live=live)
    console.print(f"wrote {path} (roles: {', '.join(available_roles())})", highlight=False, soft_wrap=True)
    console.print(f"start: supervisord -c {path}   status: supervisorctl -c {path} status", highlight=False)


def supervisor_listener(ctx: typer.Context) -> None:
    """supervisord's crash event listener: records and notifies unexpected exits (stdin/stdout protocol)."""
    from sixbtc.app.logs import configure_logging
    from sixbtc.app.supervisor import listen_for_crashes

    c = open_container(ctx)
    configure_logging(c.settings, json_lines=True, stream=sys.stderr)  # stdout is the protocol channel
    listen_for_crashes(c, sys.stdin, sys.stdout)
