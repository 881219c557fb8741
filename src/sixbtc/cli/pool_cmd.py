"""``sixbtc pool``: the ACTIVE strategies as JSON or a Rich table."""

from __future__ import annotations

import json
from typing import Any

import typer

from sixbtc.cli.context import console, friendly_errors, open_container, table


def pool(ctx: typer.Context,
         as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
         limit: int | None = typer.Option(None, "--limit", min=1, help="Show at most N strategies (best first).")) -> None:
    """ACTIVE strategies by score: type, timeframe, score, DSR, PBO, trials, OOS Sharpe, last re-test."""
    from sixbtc.app.pool_view import pool_view

    c = open_container(ctx)
    with friendly_errors():
        view = pool_view(c, limit)
    if as_json:
        typer.echo(json.dumps(view))
        return
    render_pool(view)


def _fmt(v: Any, digits: int = 2) -> str:
    if v is None:
        return "-"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def _ts(iso: str | None) -> str:
    """ISO-8601 timestamp shortened to ``YYYY-MM-DD HH:MM`` (``-`` when missing)."""
    return "-" if iso is None else iso[:16].replace("T", " ")


def render_pool(view: dict[str, Any]) -> None:
    """Print a pool view (from :func:`sixbtc.app.pool_view.pool_view`) as a Rich table."""
    rows = view["strategies"]
    shown = f", top {len(rows)}" if len(rows) < view["count"] else ""
    cols = ("name", "type", "tf", "score", "DSR", "PBO", "trials", "OOS Sharpe", "re-test Sharpe", "excess",
            "confirm ret", "confirm pct", "backtested", "re-tested")
    t = table(f"pool: {view['count']}/{view['max_size']} ACTIVE, min_score {_fmt(view['min_score'], 1)}{shown}",
              cols, right=cols[3:])
    for s in rows:
        t.add_row(s["name"], s["type"], s["timeframe"] or "-", _fmt(s["score"], 1), _fmt(s["dsr"], 3),
                  _fmt(s["pbo"], 3), _fmt(s["trials"], 0), _fmt(s["oos_sharpe"]), _fmt(s["retest_oos_sharpe"]),
                  _fmt(s["excess_return"], 3), _fmt(s["confirm_return"], 3), _fmt(s["confirm_percentile"], 0), _ts(s["last_backtested_at"]), _ts(s["last_retest_at"]))
    console.print(t)
