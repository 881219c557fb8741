"""``sixbtc emergency-stop [--close-positions]`` and ``sixbtc resume [--strategy ID]``.

Both talk to the database (and the venue) themselves: they work while ``sixbtc run`` is
running, without its lease. Exit codes: 0 done (or nothing to do), 1 something was left
(an order not cancelled, a venue that could not be reached: trading stays HALTED anyway).
"""

from __future__ import annotations

import getpass
import json
import socket

import typer
from rich.markup import escape

from sixbtc.cli.context import console, err_console, friendly_errors, open_container, table


def _who() -> str:
    """Who acts from this command line, for the decision's event: ``cli:USER@HOST``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without passwd entry)
        user = "unknown"
    return f"cli:{user}@{socket.gethostname()}"


def emergency_stop(ctx: typer.Context,
                   close_positions: bool = typer.Option(False, "--close-positions",
                                                        help="Also close every position (reduce-only market orders)."),
                   as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Halt all trading now: state HALTED in the database, cancel every open order on every sub-account."""
    from sixbtc.app.emergency import emergency_stop as run_stop
    from sixbtc.app.venues import open_venue

    c = open_container(ctx)
    with friendly_errors():
        report = run_stop(c.trading_states, c.strategies, lambda: open_venue(c), close_positions=close_positions,
                          who=_who())
    if as_json:
        typer.echo(json.dumps(report.as_dict(), default=str))
    else:
        _render(report, close_positions)
    if not report.complete:
        raise typer.Exit(1)


def _render(report: object, close_positions: bool) -> None:
    since = report.halted_since.isoformat(timespec="seconds") if report.halted_since else "?"
    if report.newly_halted:
        console.print(f"[bold red]trading HALTED[/] (global, since {since}): the executor sends no order from its "
                      "next pass on; `sixbtc resume` lifts it")
    else:
        console.print(f"trading was already HALTED (since {since})")
    if report.nothing_done:
        console.print("nothing to do: no open order" + (" and no position" if close_positions else "")
                      + " on any sub-account")
    t = table("emergency stop", ("account", "action", "symbol", "client order id / detail"))
    for acct, sym, cid in report.cancelled:
        t.add_row(acct, "cancelled", sym, cid)
    for acct, sym, cid, status in report.closed:
        t.add_row(acct, f"closed ({status})", sym, cid)
    for acct, sym, oid in report.manual:
        t.add_row(acct, "[yellow]NOT cancelled[/]", sym, f"venue order {oid} has no client order id: cancel it by hand")
    for acct, what, err in report.failures:
        t.add_row(acct, "[red]FAILED[/]", "-", escape(f"{what}: {err}"))
    if t.row_count:
        console.print(t)
    left = {a: n for a, n in report.open_positions.items() if n}
    if left and not close_positions:
        console.print(f"positions left open (their stops were cancelled): {left}; "
                      "`sixbtc emergency-stop --close-positions` closes them")
    if not report.complete:
        err_console.print("[bold red]not everything could be cancelled: see the table; trading stays HALTED[/]")


def resume(ctx: typer.Context,
           strategy: int | None = typer.Option(None, "--strategy", min=1,
                                               help="Resume one strategy (default: global trading).")) -> None:
    """Set trading ACTIVE again after an emergency stop or a kill switch (a person's decision)."""
    from sixbtc.app.emergency import resume as run_resume
    from sixbtc.domain.risk import GLOBAL_SCOPE, strategy_scope

    c = open_container(ctx)
    scope = GLOBAL_SCOPE if strategy is None else strategy_scope(strategy)
    with friendly_errors():
        before = run_resume(c.trading_states, c.strategies, scope, _who())
    if before is not None:
        console.print(f"{scope}: {before.state} ({before.reason}) -> ACTIVE; the kill switches' windows start now")
    else:
        console.print(f"{scope}: already ACTIVE, nothing changed")
