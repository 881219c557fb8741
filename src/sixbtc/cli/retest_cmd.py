"""``sixbtc retest [--all | NAME]``: re-test ACTIVE strategies now (due ones by default)."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.markup import escape

from sixbtc.cli.context import console, friendly_errors, open_container, report_error


def retest(ctx: typer.Context,
           name: str | None = typer.Argument(None, help="Re-test only this ACTIVE strategy."),
           every: bool = typer.Option(False, "--all", help="Re-test every ACTIVE strategy, due or not."),
           as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Re-test ACTIVE strategies on fresh data: the due ones (retest.interval_days), --all, or NAME.
    A re-test that fails a gate or falls below the pool's rules retires the strategy."""
    from sixbtc.app.retest_now import retest_now

    if every and name is not None:
        report_error("give either --all or NAME, not both", 2, "usage error")
    c = open_container(ctx)

    def show(line: object) -> None:
        if not as_json:
            before = "-" if line.score_before is None else f"{line.score_before:.1f}"
            after = "-" if line.score_after is None else f"{line.score_after:.1f}"
            console.print(f"{escape(line.name)}: score {before} -> {line.status} {after}")

    with friendly_errors():
        lines = retest_now(c, name=name, every=every, on_done=show)
    if as_json:
        typer.echo(json.dumps({"retested": [asdict(x) for x in lines]}))
    elif not lines:
        console.print("nothing to re-test: no ACTIVE strategy is due (use --all or NAME)")
