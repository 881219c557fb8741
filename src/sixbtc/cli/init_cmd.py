"""``sixbtc init``: write the commented default configuration."""

from __future__ import annotations

import typer

from sixbtc.app.home import Home
from sixbtc.cli.context import console, err_console, home_errors
from sixbtc.config import render_default_yaml


def init(ctx: typer.Context, force: bool = typer.Option(False, "--force", help="Overwrite an existing config.yaml.")) -> None:
    """Write HOME/config.yaml with every section of the specification and its defaults."""
    home: Home = ctx.obj
    if home.config_path.exists() and not force:
        err_console.print(f"{home.config_path} exists; use --force to overwrite it")
        raise typer.Exit(1)
    with home_errors(home):
        home.ensure().config_path.write_text(render_default_yaml(), encoding="utf-8")
    console.print(f"wrote {home.config_path}")
