"""``sixbtc status``: pipeline state as JSON or Rich tables."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from sixbtc.app.status import status_report
from sixbtc.cli.context import console, open_container


def status(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Strategies per status, rejections, pool, LIVE strategies and trades."""
    c = open_container(ctx)
    report = status_report(c)
    if as_json:
        typer.echo(json.dumps(report, default=str))
        return
    render_status(report)


def _fmt(v: Any, digits: int = 2) -> str:
    if v is None:
        return "-"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def render_status(report: dict[str, Any]) -> None:
    """Print a status report (from :func:`status_report`) as Rich tables."""
    t = Table(title="strategies by status")
    for k in report["strategies_by_status"]:
        t.add_column(k, justify="right")
    t.add_row(*(str(v) for v in report["strategies_by_status"].values()))
    console.print(t)
    r = Table(title="rejections by reason")
    r.add_column("reason")
    r.add_column("count", justify="right")
    for k, v in sorted(report["rejections_by_reason"].items(), key=lambda kv: -kv[1]):
        r.add_row(k, str(v))
    console.print(r)
    pool = report["pool"]
    p = Table(title=f"pool: {pool['count']} ACTIVE, score {_fmt(pool['min_score'])}–{_fmt(pool['max_score'])} (top 10)")
    for col in ("name", "type", "tf", "score", "OOS Sharpe", "OOS trades", "win rate", "expectancy"):
        p.add_column(col)
    for s in report["pool_top"]:
        p.add_row(s["name"], s["type"], s["timeframe"] or "-", _fmt(s["score"], 1), _fmt(s["oos_sharpe"]),
                  _fmt(s["oos_trades"], 0), _fmt(s["oos_win_rate"]), _fmt(s["oos_expectancy"], 4))
    console.print(p)
    lv = Table(title=f"LIVE ({len(report['live'])}) — trades: paper {report['trades']['paper']}, live {report['trades']['live']}")
    for col in ("name", "type", "tf", "score", "live score", "coins", "trades", "PnL USD"):
        lv.add_column(col)
    for s in report["live"]:
        lv.add_row(s["name"], s["type"], s["timeframe"] or "-", _fmt(s["score"], 1), _fmt(s["live_score"], 1),
                   ",".join(s["symbols"]), str(s["trades"]), _fmt(s["pnl_usd"]))
    console.print(lv)
    console.print(_transitions_table(report["last_events"]))


def _transitions_table(events: list[dict[str, Any]]) -> Table:
    """The last status changes, newest first (``to`` "deleted": a rejected candidate)."""
    ev = Table(title=f"last transitions ({len(events)}, newest first)")
    for col in ("time (UTC)", "strategy", "from", "to", "reason"):
        ev.add_column(col)
    for e in events:
        ts = e["ts"][:19].replace("T", " ") if e["ts"] else "-"
        ev.add_row(ts, e["strategy"], e["from"] or "-", e["to"] or "deleted", e["reason"])
    return ev
