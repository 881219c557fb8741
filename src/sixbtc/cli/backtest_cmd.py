"""``sixbtc backtest FILE.py``: a user's strategy through the factory's whole first backtest.

The use case is :func:`sixbtc.app.backtest_file.backtest_file` (validator, protocol gates,
multiple-testing gate, score, pool rules, on the home's store; nothing is written). This
module reads the file, prints the report and sets the exit code: 0 when the strategy would
enter the pool and pass the rotator's confirmation rule, 1 when a gate (or the validator) stops it, 2 on a usage or configuration
error, 3 when the store has no data for ``backtest.timeframes``. With ``--json`` the report
(or the error) is one JSON object.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from sixbtc.cli.context import console, friendly_errors, open_container, table
from sixbtc.cli.validate_cmd import read_strategy_file

_COLOURS = {"pass": "green", "FAIL": "bold red"}


def backtest(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Strategy source file (one Strategy_* class)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (also for errors)."),
) -> None:
    """Backtest a strategy file as the factory would: every gate's verdict, metrics, DSR/PBO, score."""
    code = read_strategy_file(file)
    c = open_container(ctx)
    from sixbtc.app.backtest_file import backtest_file
    from sixbtc.strategy.sandbox import StrategySandbox

    with friendly_errors(file=str(file), passed=False), StrategySandbox(c.sandbox_limits()) as sandbox:
        report = backtest_file(c, code, sandbox)
    report = {"file": str(file), **report}
    if as_json:
        typer.echo(json.dumps(report, default=str))
    else:
        render(report)
    raise typer.Exit(0 if report["passed"] else 1)


def _f(v: Any, fmt: str = ".2f") -> str:
    return "-" if v is None else format(v, fmt)


def render(r: dict[str, Any]) -> None:
    """Print a :func:`~sixbtc.app.backtest_file.backtest_file` report as text and tables."""
    name = f" ({escape(r['strategy'])})" if r["strategy"] else ""
    console.print(f"[bold]{escape(r['file'])}[/]{name}", highlight=False, soft_wrap=True)
    w = r["window"]
    console.print(f"IS {w['is_start'][:10]} .. OOS {w['oos_start'][:10]} .. {w['replay_start'][:10]} "
                  f"(replay days after it are never used)", highlight=False)
    g = table("gates, in order (figures of gates not reached: for information)",
              ("gate", "verdict", "rejects as", "figures"))
    for row in r["gates"]:
        colour = _COLOURS.get(row["state"], "dim")
        g.add_row(row["gate"], f"[{colour}]{row['state']}[/]", escape(row["reason"]), escape(row["detail"]))
    console.print(g)
    if r["timeframes"]:
        t = table("timeframes (choice of each; the best IS Sharpe is assigned)",
                  ("tf", "params", "IS Sharpe", "OOS Sharpe", "OOS return", "OOS trades", "sets", "trials"),
                  right=("IS Sharpe", "OOS Sharpe", "OOS return", "OOS trades", "sets", "trials"))
        for tf in r["timeframes"]:
            mark = " *" if tf["timeframe"] == r["assigned"] else ""
            t.add_row(tf["timeframe"] + mark, escape(json.dumps(tf["params"])), _f(tf["is_sharpe"]),
                      _f(tf["oos"]["sharpe"]), _f(tf["oos"]["total_return"], ".2%"), _f(tf["oos"]["n_trades"], ".0f"),
                      str(tf["sets"]), str(tf["trials"]))
        console.print(t)
    if r["coins"]:
        k = table(f"coins of {r['assigned']}", ("coin", "IS Sharpe", "IS trades", "OOS Sharpe", "OOS return",
                                                "OOS trades", "win rate", "profit factor"),
                  right=("IS Sharpe", "IS trades", "OOS Sharpe", "OOS return", "OOS trades", "win rate",
                         "profit factor"))
        for cr in r["coins"]:
            o = cr["oos"]
            k.add_row(cr["symbol"], _f(cr["is"]["sharpe"]), _f(cr["is"]["n_trades"], ".0f"), _f(o["sharpe"]),
                      _f(o["total_return"], ".2%"), _f(o["n_trades"], ".0f"), _f(o["win_rate"], ".0%"),
                      _f(o["profit_factor"]))
        console.print(k)
    console.print(f"DSR {_f(r['dsr'], '.3f')} (N = {r['dsr_trials'] or '-'}), PBO {_f(r['pbo'])}, "
                  f"score {_f(r['score'], '.1f')}", highlight=False)
    conf = r["confirmation"]
    if conf is None:
        console.print("confirmation: not available (no confirmation window)", highlight=False)
    else:
        pct = conf.get("twin_percentile")
        console.print(f"confirmation {conf['start'][:10]}..{conf['end'][:10]}: return {_f(conf['total_return'], '.2%')}, "
                      f"Sharpe {_f(conf['sharpe'])}, {conf['n_trades']} trades, twin percentile "
                      f"{_f(pct, '.0f')} of {conf.get('n_twins', 0)} twins", highlight=False)
    for note in r["notes"]:
        console.print(f"[dim]note: {escape(note)}[/]")
    verdict = "[bold green]WOULD ENTER THE POOL (and pass the confirmation rule)[/]" if r["passed"] else \
        f"[bold red]STOPPED[/] by {escape(str(r['stopped_by']))}"
    console.print(f"verdict: {verdict}")
