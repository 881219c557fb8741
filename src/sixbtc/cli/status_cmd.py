"""``sixbtc status``: pipeline state as JSON or Rich tables."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from sixbtc.cli.context import console, friendly_errors, open_container, table


def status(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Strategies per status, rejections, pool (or the closest candidates), LIVE strategies and trades; trading mode,
    venue, kill switches, sub-accounts, open positions with stops, last reconciliation."""
    from sixbtc.app.status import status_report

    c = open_container(ctx)
    with friendly_errors():
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
    counts = report["strategies_by_status"]
    t = table("strategies by status", list(counts), right=list(counts))
    t.add_row(*(str(v) for v in report["strategies_by_status"].values()))
    console.print(t)
    r = table("rejections by reason", ("reason", "count"), right=("count",))
    for k, v in sorted(report["rejections_by_reason"].items(), key=lambda kv: -kv[1]):
        r.add_row(k, str(v))
    console.print(r)
    pool = report["pool"]
    p = table(f"pool: {pool['count']} ACTIVE, score {_fmt(pool['min_score'])}–{_fmt(pool['max_score'])} (top 10)",
              ("name", "type", "tf", "score", "OOS Sharpe", "OOS trades", "win rate", "expectancy", "confirm"))
    for s in report["pool_top"]:
        p.add_row(s["name"], s["type"], s["timeframe"] or "-", _fmt(s["score"], 1), _fmt(s["oos_sharpe"]),
                  _fmt(s["oos_trades"], 0), _fmt(s["oos_win_rate"]), _fmt(s["oos_expectancy"], 4),
                  _confirm(s.get("confirm")))
    console.print(p)
    if report.get("closest_candidates"):
        console.print(_candidates_table(report["closest_candidates"]))
    lv = table(f"LIVE ({len(report['live'])}) — trades: paper {report['trades']['paper']}, live {report['trades']['live']}",
               ("name", "type", "tf", "score", "live score", "coins", "trades", "PnL USD"))
    for s in report["live"]:
        lv.add_row(s["name"], s["type"], s["timeframe"] or "-", _fmt(s["score"], 1), _fmt(s["live_score"], 1),
                   ",".join(s["symbols"]), str(s["trades"]), _fmt(s["pnl_usd"]))
    console.print(lv)
    console.print(_transitions_table(report["last_events"]))
    if "trading" in report:
        render_trading(report["trading"])


def render_trading(tr: dict[str, Any]) -> None:
    """Mode, venue, trading states, sub-accounts, open positions with stops, last reconciliation."""
    g = tr["global_state"]
    colour = {"ACTIVE": "green", "REDUCING": "yellow", "HALTED": "bold red"}.get(g["state"], "")
    since = f" since {g['since'][:19].replace('T', ' ')}" if g["since"] else ""
    why = f" ({escape(g['reason'])}: {escape(g['detail'] or '')})" if g["reason"] else ""
    console.print(f"mode [bold]{tr['mode']}[/] on venue {tr['venue']}; trading [{colour}]{g['state']}[/]{since}{why}",
                  highlight=False)
    console.print(_reconciliation_line(tr["reconciliation"]), highlight=False)
    if tr["strategy_states"]:
        k = table("kill switches (strategies not ACTIVE)", ("scope", "state", "reason", "since (UTC)", "detail"))
        for st in tr["strategy_states"]:
            k.add_row(st["scope"], st["state"], st["reason"] or "-", (st["since"] or "-")[:19].replace("T", " "),
                      escape(st["detail"] or ""))
        console.print(k)
    sa = table("sub-accounts (executor records)", ("sub-account", "mode", "strategy", "capital USD", "balance USD"),
               right=("capital USD", "balance USD"))
    for s in tr["subaccounts"]:
        sa.add_row(s["label"], s["mode"], s["strategy"] or "free", _fmt(s["capital_usd"]), _fmt(s["balance_usd"]))
    console.print(sa)
    po = table(f"open positions ({len(tr['positions'])})", ("strategy", "sub-account", "symbol", "tf", "side", "qty",
                                                             "entry", "stop", "target", "since (UTC)"),
               right=("qty", "entry", "stop", "target"))
    for p in tr["positions"]:
        po.add_row(p["strategy"] or "-", p["subaccount"], p["symbol"], p["timeframe"], p["direction"],
                   _fmt(p["qty"], 6), _fmt(p["entry_price"], 4), _fmt(p["stop_price"], 4) if p["stop_price"] else
                   "[bold red]NONE[/]", _fmt(p["target_price"], 4), (p["entry_ts"] or "-")[:16].replace("T", " "))
    console.print(po)


def _reconciliation_line(rec: dict[str, Any]) -> str:
    """The last reconciliation: when, outcome, on which venue, the summary and each mismatch."""
    if rec["ts"] is None:
        return f"last reconciliation: {rec['status']}"
    colour = {"ok": "green", "mismatch": "bold red", "failed": "bold red"}.get(rec["status"], "")
    line = (f"last reconciliation: {rec['ts'][:19].replace('T', ' ')} UTC [{colour}]{rec['status']}[/] "
            f"({rec['mode']} on {rec['venue']}): {escape(rec['summary'] or '')}")
    for account, symbol, detail in rec["mismatches"]:
        line += f"\n  [bold red]mismatch[/] {escape(account)} {escape(symbol)}: {escape(detail)} (not traded)"
    return line


def _confirm(conf: dict[str, Any] | None) -> str:
    """Confirmation return and twin percentile, e.g. ``+1.2% p74`` (``-`` when not confirmed)."""
    if not isinstance(conf, dict) or not isinstance(conf.get("total_return"), int | float):
        return "-"
    pct = conf.get("twin_percentile")
    return f"{conf['total_return']:+.1%}" + (f" p{pct:.0f}" if isinstance(pct, int | float) else "")


def _transitions_table(events: list[dict[str, Any]]) -> Table:
    """The last status changes, newest first (``to`` "deleted": a rejected candidate)."""
    ev = table(f"last transitions ({len(events)}, newest first)", ("time (UTC)", "strategy", "from", "to", "reason"))
    for e in events:
        ts = e["ts"][:19].replace("T", " ") if e["ts"] else "-"
        ev.add_row(ts, e["strategy"], e["from"] or "-", e["to"] or "deleted", e["reason"])
    return ev


def _candidates_table(rows: list[dict[str, Any]]) -> Table:
    """The refused strategies with the best DSR (shown while the pool is empty)."""
    t = table("closest candidates (pool empty): best DSR among refused strategies, and what stopped each",
              ("strategy", "tf", "DSR", "PBO", "N", "OOS Sharpe", "OOS trades", "score", "stopped by", "detail"),
              right=("DSR", "PBO", "N", "OOS Sharpe", "OOS trades", "score"))
    for r in rows:
        t.add_row(r["strategy"], r["timeframe"] or "-", _fmt(r["dsr"], 3), _fmt(r["pbo"]), _fmt(r["dsr_trials"]),
                  _fmt(r["oos_sharpe"]), _fmt(r["oos_trades"], 0), _fmt(r["score"], 1), escape(r["reason"]), escape(r["detail"]))
    return t
