"""Shared CLI plumbing: the consoles, tables that never cut a value, opening the container,
turning errors into exits.

Errors are one line on stderr, or with ``--json`` anywhere on the command line one JSON object
on stdout (``{"error": "..."}``; ``validate`` adds ``"file"`` and ``"passed": false``), so a
script reading the output always gets JSON (:func:`report_error`).

Command modules import only light modules at the top (typer, rich, settings); the
application (SQLAlchemy, ccxt, numba) is imported when a command needs it, so that
``sixbtc validate`` of a file rejected by the static gate, ``--help`` and configuration
errors answer at once.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

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

#: True while a command given ``--json`` runs (set by the root command for each invocation).
_json_errors = False

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


def set_json_errors(flag: bool) -> None:
    """Print the errors of this invocation as JSON (``--json`` given) or as text."""
    global _json_errors
    _json_errors = flag


def json_requested() -> bool:
    """True when the running command was given ``--json`` (errors are then JSON too)."""
    return _json_errors


def report_error(message: str, code: int, label: str = "error", **extra: Any) -> NoReturn:
    """Print an error and exit ``code``.

    Parameters
    ----------
    message : str
        One line saying what is wrong (text from files is printed, never read as markup).
    code : int
        Exit code (README "CLI reference": 1 error, 2 usage or configuration, 3 data,
        network or database).
    label : str
        Prefix of the line, e.g. ``"configuration error"``.
    **extra
        Keys put before ``"error"`` in the JSON object (``validate``: ``file``, ``passed``).

    Raises
    ------
    typer.Exit
        Always, with ``code``.
    """
    text = " ".join(message.split())
    if json_requested():
        typer.echo(json.dumps({**extra, "error": text if label == "error" else f"{label}: {text}"}))
    else:
        err_console.print(f"[bold red]{escape(label)}:[/] {escape(text)}", highlight=False)
    raise typer.Exit(code)


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
        report_error(f"cannot use the home directory {home.root}: {where}: {exc.strerror or exc}", 2)


@contextmanager
def friendly_errors(**extra: Any) -> Iterator[None]:
    """Print SixBTC errors as one clear line (see :func:`report_error`, which gets ``extra``)
    and exit non-zero.

    Exit codes: 2 configuration, 3 data, network or database unreachable, 1 other.
    """
    try:
        yield
    except ConfigError as exc:
        report_error(str(exc), 2, "configuration error", **extra)
    except (DataError, NetworkUnavailable, DatabaseUnavailable) as exc:
        report_error(str(exc), 3, **extra)
    except SixbtcError as exc:
        report_error(str(exc), 1, **extra)
