"""Shared CLI plumbing: the console, opening the container, turning errors into exits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from sixbtc.app.container import Container
from sixbtc.app.home import Home
from sixbtc.core.errors import ConfigError, DataError, NetworkUnavailable, SixbtcError

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def open_container(ctx: typer.Context) -> Container:
    """Build the container for the home chosen by ``--home`` / ``SIXBTC_HOME``; exit 2 on bad config."""
    home: Home = ctx.obj
    try:
        return Container.open(home)
    except ConfigError as exc:
        err_console.print(f"[bold red]configuration error:[/] {exc}")
        raise typer.Exit(2) from None


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Print SixBTC errors as one clear line and exit non-zero (2 config, 3 data/network, 1 other)."""
    try:
        yield
    except ConfigError as exc:
        err_console.print(f"[bold red]configuration error:[/] {exc}")
        raise typer.Exit(2) from None
    except (DataError, NetworkUnavailable) as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(3) from None
    except SixbtcError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(1) from None
