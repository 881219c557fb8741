"""``sixbtc accounts [--top-up] [--renew-agents] [--json]``: sub-accounts, balances and agent
wallets of the venue; with the flags, the top-up and agent renewal operations of
:mod:`sixbtc.app.accounts`. Exit 1 when a transfer or a renewal failed."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import typer
from rich.markup import escape

from sixbtc.cli.context import console, friendly_errors, open_container, table


def accounts(ctx: typer.Context,
             top_up: bool = typer.Option(False, "--top-up", help="Top up sub-accounts below accounts.top_up_below_usd "
                                         "to accounts.top_up_to_usd from the master (keeps accounts.master_reserve_usd)."),
             renew_agents: bool = typer.Option(False, "--renew-agents", help="Renew agent wallets expiring within "
                                               "accounts.agent_renew_days."),
             as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Sub-accounts with balances, agent wallets with expiry; optionally top up and renew."""
    from sixbtc.app import accounts as ops
    from sixbtc.app.venues import master_account, open_venue

    c = open_container(ctx)
    out: dict[str, Any] = {}
    with friendly_errors():
        venue, master, cfg = open_venue(c), master_account(c), c.settings.accounts
        if top_up:
            out["top_up"] = asdict(ops.top_up(venue, master, cfg))
        if renew_agents:
            out["renew_agents"] = asdict(ops.renew_agents(venue, cfg, int(c.clock.now().timestamp() * 1000)))
        out["overview"] = asdict(ops.overview(venue, master))
    if as_json:
        typer.echo(json.dumps(out, default=str))
    else:
        render_accounts(out)
    if any(out.get(k, {}).get("failures") for k in ("top_up", "renew_agents")):
        raise typer.Exit(1)


def _expiry(ms: int | None) -> str:
    return "never" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def render_accounts(out: dict[str, Any]) -> None:
    """Print what :func:`accounts` collected (``top_up``, ``renew_agents``, ``overview`` as dicts)."""
    if "top_up" in out:
        rep = out["top_up"]
        for name, usd in rep["done"]:
            console.print(f"topped up {name}: +{usd:.2f} USD from the master")
        for sub, equity, why in rep["plan"]["skipped"]:
            console.print(f"[yellow]skipped {sub['name']}[/] (equity {equity:.2f} USD): {why}")
        for name, err in rep["failures"]:
            console.print(f"[red]transfer to {name} FAILED[/]: {escape(err)}")
        if not (rep["done"] or rep["plan"]["skipped"] or rep["failures"]):
            console.print("no sub-account needs a top-up")
    if "renew_agents" in out:
        rep = out["renew_agents"]
        for old, new in rep["renewed"]:
            console.print(f"renewed agent {old['name']}: valid until {_expiry(new['valid_until_ms'])}")
        for name, err in rep["failures"]:
            console.print(f"[red]renewal of {name} FAILED[/]: {escape(err)}")
        if not (rep["renewed"] or rep["failures"]):
            console.print("no agent wallet expires soon")
    view = out["overview"]
    m = view["master"]
    t = table(f"sub-accounts (master {m['account']}: equity {m['equity_usd']:.2f} USD, available "
              f"{m['available_usd']:.2f} USD)", ("sub-account", "address", "equity USD", "available USD",
                                                  "margin USD", "positions"),
              right=("equity USD", "available USD", "margin USD", "positions"))
    for sub, bal, n in view["subs"]:
        t.add_row(sub["name"], sub["address"], f"{bal['equity_usd']:.2f}", f"{bal['available_usd']:.2f}",
                  f"{bal['margin_used_usd']:.2f}", str(n))
    console.print(t)
    a = table("agent wallets", ("name", "address", "valid until (UTC)"))
    for agent in view["agents"]:
        a.add_row(agent["name"], agent["address"], _expiry(agent["valid_until_ms"]))
    console.print(a)
