"""Shared CLI plumbing: the consoles, tables that never cut a value, opening the container,
turning errors into exits.

Command modules import only light modules at the top (typer, rich, settings); the
application (SQLAlchemy, ccxt, numba) is imported when a command needs it, so that
``sixbtc validate`` of a file rejected by the static gate, ``--help`` and configuration
errors answer at once.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sixbtc.core.errors import (
    ConfigError,
    DatabaseUnavailable,
    DataError,
    NetworkUnavailable,
    SixbtcError,
)

if TYPE_CHECKING:
    from sixbtc.app.container import Container
    from sixbtc.app.home import Home

#: Width of tables written to a pipe or file (a terminal uses its own width): wide enough
#: for the status and pool tables on one line each; narrower output folds, never cuts.
PIPE_WIDTH = 200


def _console_width() -> int | None:
    """``PIPE_WIDTH`` when stdout is not a terminal and ``COLUMNS`` is unset, else Rich's choice."""
    if os.environ.get("COLUMNS") or sys.stdout.isatty():
        return None
    return PIPE_WIDTH


console = Console(width=_console_width())
err_console = Console(stderr=True, soft_wrap=True)


def table(title: str, columns: Sequence[str], right: Collection[str] = ()) -> Table:
    """A Rich table whose cells fold onto more lines instead of being cut with an ellipsis.

    Parameters
    ----------
    title : str
    columns : sequence of str
        Column headers, left to right.
    right : collection of str
        Headers of right-aligned (numeric) columns.
    """
    t = Table(title=title)
    for col in columns:
        t.add_column(col, justify="right" if col in right else "left", overflow="fold")
    return t


def open_container(ctx: typer.Context) -> Container:
    """Build the container for the home chosen by ``--home`` / ``SIXBTC_HOME``.

    Exits 2 on a bad configuration or a home directory that cannot be created.
    """
    from sixbtc.app.container import Container

    with friendly_errors(), home_errors(ctx.obj):
        return Container.open(ctx.obj)


@contextmanager
def home_errors(home: Home) -> Iterator[None]:
    """An ``OSError`` creating or writing the home directory: one line, exit 2."""
    try:
        yield
    except OSError as exc:
        where = exc.filename or home.root
        err_console.print(f"[bold red]error:[/] cannot use the home directory {escape(str(home.root))}: "
                          f"{escape(str(where))}: {escape(exc.strerror or str(exc))}", highlight=False)
        raise typer.Exit(2) from None


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Print SixBTC errors as one clear line and exit non-zero.

    Exit codes: 2 configuration, 3 data, network or database unreachable, 1 other.
    """
    try:
        yield
    except ConfigError as exc:
        err_console.print(f"[bold red]configuration error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
    except (DataError, NetworkUnavailable, DatabaseUnavailable) as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(3) from None
    except SixbtcError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None
