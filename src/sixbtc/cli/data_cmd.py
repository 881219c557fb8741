"""``sixbtc data ...``: import local files, download from the venue."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from sixbtc.app.market import download_missing, sync_coins
from sixbtc.cli.context import console, friendly_errors, open_container
from sixbtc.data.importer import import_path

data_app = typer.Typer(no_args_is_help=True, help="Market data: import, download.")


def _csv_set(value: str | None) -> set[str] | None:
    return {v.strip() for v in value.split(",") if v.strip()} if value else None


@data_app.command("import")
def import_cmd(ctx: typer.Context,
               path: Path = typer.Argument(..., help="A file or a folder of {SYMBOL}_{TF}.parquet / CSV files."),
               symbols: str | None = typer.Option(None, help="Only these base assets, e.g. BTC,ETH"),
               timeframes: str | None = typer.Option(None, help="Only these candle timeframes, e.g. 1h,4h"),
               funding: bool = typer.Option(True, "--funding/--no-funding",
                                            help="Also import {SYMBOL}_funding files (whatever --timeframes says).")) -> None:
    """Import candles and funding rates for offline use, through candle validation."""
    tf_filter = _csv_set(timeframes)
    if tf_filter is not None and funding:
        tf_filter.add("funding")
    c = open_container(ctx)
    if not path.exists():
        console.print(f"[red]no such file or folder: {path}[/]")
        raise typer.Exit(2)
    with friendly_errors():
        results = import_path(path, c.store, symbols=_csv_set(symbols), timeframes=tf_filter)
        coins = sync_coins(c)
    table = Table(title=f"import {path}")
    for col in ("file", "symbol", "timeframe", "stored", "rejected", "reasons / error"):
        table.add_column(col, justify="right" if col in ("stored", "rejected") else "left")
    imported = failed = 0
    for r in results:
        if r.skipped:
            continue
        imported += r.error is None
        failed += r.error is not None
        why = r.error or ", ".join(f"{k}: {v}" for k, v in r.reasons.items())
        table.add_row(r.file.name, r.symbol or "?", r.timeframe or "?", str(r.stored), str(r.rejected), why)
    console.print(table)
    for r in results:  # full reasons on one line each: table cells may wrap on narrow terminals
        if r.rejected:
            reasons = ", ".join(f"{k}: {v}" for k, v in r.reasons.items())
            console.print(f"{r.file.name}: {r.rejected} rows rejected ({reasons})", soft_wrap=True)
    console.print(f"{imported} files imported, {failed} failed; {coins} coins in the registry")
    if failed:
        raise typer.Exit(1)


@data_app.command("download")
def download_cmd(ctx: typer.Context) -> None:
    """Download or update data.coins × data.timeframes (and funding) from the venue via ccxt."""
    c = open_container(ctx)
    with friendly_errors():
        results = download_missing(c)
    for r in results:
        console.print(r)
