"""``sixbtc data pairs [--dry-run]``: the pairs updater by hand (SPEC §3.1).

Prints the new universe (rank, symbol, Hyperliquid name, 24 h volume, mark price, max
leverage, whether it is new) and the coins that fall out. Exit 0 on success; 3 when a venue
is unreachable or no coin passes the filters; 1 for a venue error (HTTP 429 / 5xx after
retries); 2 for a configuration error. Nothing is written with ``--dry-run`` or on an error.
"""

from __future__ import annotations

import typer
from rich.markup import escape

from sixbtc.cli.context import console, friendly_errors, open_container, table


def pairs_cmd(ctx: typer.Context,
              dry_run: bool = typer.Option(False, "--dry-run", help="Show the new universe and changes; write nothing.")) -> None:
    """Update the coin universe: Hyperliquid perps ∩ Binance USDⓈ-M, by 24h volume (data.min_volume_usd, data.top_pairs_count)."""
    from sixbtc.app.pairs import update_pairs

    c = open_container(ctx)
    with friendly_errors():
        change = update_pairs(c, dry_run=dry_run)
    added = set(change.added)
    t = table("new universe" + (" (dry run: nothing written)" if dry_run else ""),
              ["#", "symbol", "hyperliquid", "volume 24h USD", "mark price", "max lev", "change"],
              right={"#", "volume 24h USD", "mark price", "max lev"})
    for p in change.pairs:
        t.add_row(str(p.rank), escape(p.symbol), escape(p.venue_symbol), f"{p.volume_24h_usd:,.0f}",
                  f"{p.mark_price:,.6g}", f"{p.max_leverage:g}", "added" if p.symbol in added else "")
    console.print(t)
    if change.removed:
        console.print(f"[yellow]fall out (inactive: no new entries, open positions still managed): "
                      f"{escape(', '.join(change.removed))}[/]", soft_wrap=True)
    verb = "would be" if dry_run else "are"
    console.print(f"{len(change.pairs)} coins {verb} active: {len(change.added)} added, "
                  f"{len(change.removed)} removed, {len(change.kept)} kept", soft_wrap=True)
