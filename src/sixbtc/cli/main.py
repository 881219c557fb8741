"""The ``sixbtc`` command."""

from __future__ import annotations

from pathlib import Path

import typer

from sixbtc.app.home import resolve_home
from sixbtc.cli import data_cmd, init_cmd, pool_cmd, run_cmd, status_cmd, validate_cmd

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="SixBTC: an unattended strategy factory for crypto perpetual futures.")


@app.callback()
def main(ctx: typer.Context,
         home: Path | None = typer.Option(None, "--home", help="Home directory (default ./.sixbtc or $SIXBTC_HOME).")) -> None:
    """Resolve the home directory for every command."""
    ctx.obj = resolve_home(home)


app.command("init")(init_cmd.init)
app.command("run")(run_cmd.run)
app.command("status")(status_cmd.status)
app.command("pool")(pool_cmd.pool)
app.command("validate")(validate_cmd.validate_file)
app.add_typer(data_cmd.data_app, name="data")

if __name__ == "__main__":  # pragma: no cover
    app()
