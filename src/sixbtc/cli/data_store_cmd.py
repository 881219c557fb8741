"""``sixbtc data verify`` and ``sixbtc data fill-gaps``: store health (SPEC §3.1).

``verify`` checks every store file as it is on disk (schema, order, grid, rows, gaps not
known as venue gaps, sidecar consistency) and changes nothing: exit 0 when every file is
healthy, 3 when a file has a problem. ``fill-gaps`` quarantines files that cannot be trusted
and downloads them again, then asks the venue for every unknown gap and records what it does
not have as known gaps: exit 0, or 3 when a series failed or the venue is unreachable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from sixbtc.cli.context import console, friendly_errors, open_container, table


@contextmanager
def progress_bar(total: int | None, what: str) -> Iterator[Callable[..., None]]:
    """A Rich progress bar over ``total`` steps (None: the first step says the total); yields
    ``step(name, total=None)`` to call after each step. Transient: the summary table stays."""
    with Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                  console=console, transient=True) as bar:
        task = bar.add_task("", total=total)

        def step(name: str, total: int | None = None) -> None:
            bar.update(task, advance=1, description=escape(name), **({"total": total} if total else {}))

        yield step


def _ts(value: object) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M}"


def verify_cmd(ctx: typer.Context) -> None:
    """Check every store file (schema, order, grid, gaps, metadata); exit 3 if one has a problem."""
    from sixbtc.adapters.storage.candle_verify import store_files
    from sixbtc.app.store_health import verify

    c = open_container(ctx)
    with friendly_errors(), progress_bar(len(store_files(c.store.root)), "verify") as step:
        checks, temps = verify(c, step)
    t = table(f"verify {escape(str(c.store.root))}", ["file", "rows", "first", "last", "gaps", "known gaps", "status"],
              right={"rows", "gaps", "known gaps"})
    for ch in checks:
        t.add_row(escape(ch.file), f"{ch.rows:,}", _ts(ch.first), _ts(ch.last), f"{ch.gaps:,}", f"{ch.known_gaps:,}",
                  "ok" if ch.ok else "[red]PROBLEM[/]")
    console.print(t)
    for ch in checks:
        for line in ch.problems:
            console.print(f"[red]{escape(ch.file)}: {escape(line)}[/]", soft_wrap=True)
    for name in temps:
        console.print(f"note: {escape(name)} is a temp file left by an interrupted write (the store file is intact)",
                      soft_wrap=True)
    bad = sum(not ch.ok for ch in checks)
    console.print(f"{len(checks)} files checked, {bad} with problems", soft_wrap=True)
    if bad:
        raise typer.Exit(3)


def fill_gaps_cmd(ctx: typer.Context,
                  symbols: str | None = typer.Option(None, help="Only these base assets, e.g. BTC,ETH"),
                  timeframes: str | None = typer.Option(None, help="Only these timeframes, e.g. 1h,4h")) -> None:
    """Quarantine and re-download broken files, fill gaps from the venue, record venue gaps as known."""
    from sixbtc.adapters.storage.candle_verify import series_names
    from sixbtc.app.store_health import heal_and_fill
    from sixbtc.cli.data_cmd import _filters

    wanted, tfs = _filters(symbols, timeframes, funding=False)
    c = open_container(ctx)
    with friendly_errors(), progress_bar(2 * len(series_names(c.store.root)), "fill-gaps") as step:
        report = heal_and_fill(c, progress=step, symbols=wanted, timeframes=tfs)
    for symbol, tf in report.quarantined:
        console.print(f"[yellow]{symbol} {tf}: file quarantined (see the log), downloaded again[/]", soft_wrap=True)
    for r in report.downloads:
        line = f"{r.symbol} {r.timeframe}: re-download {r.mode}, {r.stored:,} stored"
        console.print(escape(line) if not r.error else f"[red]{escape(line)}: FAILED: {escape(r.error)}[/]",
                      soft_wrap=True)
    t = table("fill-gaps", ["series", "gaps asked", "candles filled", "new known gaps", "known gaps skipped", "result"],
              right={"gaps asked", "candles filled", "new known gaps", "known gaps skipped"})
    for f in report.fills:
        t.add_row(f"{f.symbol} {f.timeframe}", f"{f.requested:,}", f"{f.filled:,}", f"{len(f.known_added):,}",
                  f"{f.known:,}", "[red]FAILED[/]" if f.error else "ok")
    console.print(t)
    for f in report.fills:
        if f.error:
            console.print(f"[red]{f.symbol} {f.timeframe}: FAILED: {escape(f.error)}[/]", soft_wrap=True)
        for lo, hi in f.known_added:
            console.print(f"{f.symbol} {f.timeframe}: venue has no candles {_ts(lo)} .. {_ts(hi)} "
                          "(recorded as a known gap, not asked again)", soft_wrap=True)
    if not report.ok:
        raise typer.Exit(3)
