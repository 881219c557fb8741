"""``sixbtc data ...``: import local files, download from the venue.

Exit codes of ``data import`` (README "CLI reference"): 0 when at least one file was imported
and none failed (rejected rows and skipped entries are listed but do not change the code);
3 when a file failed (unreadable, no valid row, a named file that cannot be imported) or
nothing at all was imported; 2 for a usage error (missing path, bad ``--symbols`` /
``--timeframes``, bad configuration); 1 for an unexpected error.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import NoReturn

import typer
from rich.markup import escape
from rich.table import Table

from sixbtc.app.market import download_missing, sync_coins
from sixbtc.cli.context import console, err_console, friendly_errors, open_container, report_error
from sixbtc.cli.data_pairs_cmd import pairs_cmd
from sixbtc.cli.data_store_cmd import fill_gaps_cmd, progress_bar, verify_cmd
from sixbtc.data.importer import FUNDING, ImportResult, ImportSummary, import_path, summarise
from sixbtc.domain.timeframe import Timeframe

data_app = typer.Typer(no_args_is_help=True, help="Market data: import, download, pairs, verify, fill-gaps.")
data_app.command("pairs")(pairs_cmd)
data_app.command("verify")(verify_cmd)
data_app.command("fill-gaps")(fill_gaps_cmd)

_SYMBOL = re.compile(r"^[A-Za-z0-9]{1,30}$")


def _csv_set(value: str | None, flag: str) -> set[str] | None:
    """The comma-separated values of ``flag`` (None when not given); exit 2 on an empty list."""
    if value is None:
        return None
    values = {v.strip() for v in value.split(",") if v.strip()}
    if not values:
        _usage_error(f"{flag}: no value given (e.g. {flag} {'BTC,ETH' if flag == '--symbols' else '1h,4h'})")
    return values


def _usage_error(message: str) -> NoReturn:
    report_error(message, 2, "usage error")


def _filters(symbols: str | None, timeframes: str | None, funding: bool) -> tuple[set[str] | None, set[str] | None]:
    """Parsed ``--symbols`` / ``--timeframes``; exit 2 naming a bad value."""
    wanted = _csv_set(symbols, "--symbols")
    for s in sorted(wanted or ()):
        if not _SYMBOL.match(s):
            _usage_error(f"--symbols: {s!r} is not a base asset like BTC or 1000PEPE")
    tfs = _csv_set(timeframes, "--timeframes")
    for tf in sorted(tfs or ()):
        if tf != FUNDING and tf not in {t.value for t in Timeframe}:
            _usage_error(f"--timeframes: unknown timeframe {tf!r} "
                               f"(accepted: {', '.join(t.value for t in Timeframe)})")
    if tfs is not None and funding:
        tfs.add(FUNDING)
    return ({s.upper() for s in wanted} if wanted is not None else None), tfs


def plural(n: int, noun: str) -> str:
    """``plural(1, "file")`` -> ``"1 file"``, ``plural(2, "row")`` -> ``"2 rows"`` (thousands separated)."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


@data_app.command("import")
def import_cmd(ctx: typer.Context,
               path: Path = typer.Argument(..., help="A file or a folder of {SYMBOL}_{TF}.parquet / CSV files."),
               symbols: str | None = typer.Option(None, help="Only these base assets, e.g. BTC,ETH"),
               timeframes: str | None = typer.Option(None, help="Only these candle timeframes, e.g. 1h,4h"),
               funding: bool = typer.Option(True, "--funding/--no-funding",
                                            help="Also import {SYMBOL}_funding files (whatever --timeframes says).")) -> None:
    """Import candles and funding rates for offline use, through candle validation.

    Exit 0: files imported, none failed; 3: a file failed or nothing was imported; 2: usage error.
    """
    wanted, tf_filter = _filters(symbols, timeframes, funding)
    c = open_container(ctx)
    if not path.exists():
        broken = " (a broken symbolic link)" if path.is_symlink() else ""
        _usage_error(f"no such file or folder: {path}{broken}")
    with friendly_errors(), progress_bar(None, "import") as bar:
        results = import_path(path, c.store, symbols=wanted, timeframes=tf_filter, clock=c.clock,
                              on_entry=lambda total, r: bar(r.file.name, total))
        coins = sync_coins(c)
    _print_results(path, results)
    summary = summarise(results)
    console.print(_summary_line(summary, coins), soft_wrap=True)
    if not summary.ok:
        if summary.imported == 0 and summary.failed == 0:
            err_console.print(f"[bold red]error:[/] nothing imported from {escape(str(path))}")
        raise typer.Exit(3)


def _own(text: str, name: str) -> str:
    """``text`` without a leading ``"{name}: "`` (the line already starts with the name)."""
    return text[len(name) + 2:] if text.startswith(f"{name}: ") else text


def _print_results(path: Path, results: list[ImportResult]) -> None:
    table = Table(title=f"import {escape(str(path))}")
    for col in ("file", "symbol", "timeframe", "result", "stored", "rejected"):
        table.add_column(col, justify="right" if col in ("stored", "rejected") else "left")
    for r in results:
        if r.status != "skipped":
            table.add_row(escape(r.file.name), r.symbol or "?", r.timeframe or "?",
                          "FAILED" if r.error else "imported", f"{r.stored:,}", f"{r.rejected:,}")
    if table.rows:
        console.print(table)
    for r in results:  # one line each: table cells may wrap on narrow terminals
        name = escape(r.file.name)
        if r.error:
            console.print(f"[red]{name}: FAILED: {escape(_own(r.error, r.file.name))}[/]", soft_wrap=True)
        if r.rejected:
            reasons = ", ".join(f"{k}: {v}" for k, v in r.reasons.items())
            example = f"; e.g. {escape(r.examples[0])}" if r.examples else ""
            console.print(f"{name}: {plural(r.rejected, 'row')} rejected ({reasons}){example}", soft_wrap=True)
        for line in r.warnings:
            console.print(f"[yellow]{name}: warning: {escape(line)}[/]", soft_wrap=True)
        for line in r.notes:
            console.print(f"{name}: {escape(line)}", soft_wrap=True)
    skipped: dict[str, list[str]] = defaultdict(list)
    for r in results:
        if r.status == "skipped":
            skipped[_own(r.skip_reason or "skipped", r.file.name)].append(r.file.name)
    for reason, names in skipped.items():
        console.print(f"skipped ({escape(reason)}): {escape(', '.join(names))}", soft_wrap=True)


def _summary_line(s: ImportSummary, coins: int) -> str:
    return (f"{plural(s.imported, 'file')} imported ({plural(s.stored, 'row')} stored, "
            f"{s.rejected:,} rejected), {s.failed:,} failed, {s.skipped:,} skipped; "
            f"{plural(coins, 'coin')} in the registry")


@data_app.command("download")
def download_cmd(ctx: typer.Context) -> None:
    """Download or update data.coins × data.timeframes (and funding) from the venue via ccxt.

    Exit 0: every series updated; 3: a series failed or the venue is unreachable.
    """
    c = open_container(ctx)
    total = len(c.settings.data.coins) * (len(c.settings.data.timeframes) + 1)
    with friendly_errors(), progress_bar(total, "download") as bar:
        results = download_missing(c, on_result=lambda r: bar(f"{r.symbol} {r.timeframe}"))
    t = Table(title="download")
    for col in ("symbol", "timeframe", "mode", "fetched", "stored", "rejected", "result"):
        t.add_column(col, justify="right" if col in ("fetched", "stored", "rejected") else "left")
    for r in results:
        t.add_row(escape(r.symbol), r.timeframe, r.mode, f"{r.fetched:,}", f"{r.stored:,}", f"{r.rejected:,}",
                  "[red]FAILED[/]" if r.error else "ok")
    console.print(t)
    for r in results:
        reasons = ", ".join(f"{k}: {v}" for k, v in r.reasons.items())
        line = (f"{r.symbol} {r.timeframe}: {r.mode}, {plural(r.fetched, 'row')} fetched, {r.stored:,} stored, "
                f"{r.rejected:,} rejected" + (f" ({reasons})" if reasons else ""))
        console.print(escape(line) if not r.error else f"[red]{escape(line)}: FAILED: {escape(r.error)}[/]",
                      soft_wrap=True)
        for w in r.warnings:
            console.print(f"[yellow]{escape(r.symbol)} {r.timeframe}: warning: {escape(w)}[/]", soft_wrap=True)
    if any(r.error for r in results):
        raise typer.Exit(3)
