"""``sixbtc run``: the pipeline, once (bounded cycle) or as a service."""

from __future__ import annotations

import time

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sixbtc.app.container import Container
from sixbtc.app.market import OFFLINE_HINT, download_missing, store_is_empty
from sixbtc.app.once import CycleReport, StageProgress, run_once
from sixbtc.app.service import Service
from sixbtc.app.status import status_report
from sixbtc.cli.context import console, err_console, friendly_errors, open_container
from sixbtc.cli.status_cmd import render_status
from sixbtc.core.errors import NetworkUnavailable


class RichStageProgress(StageProgress):
    """Rich progress bars for long stages."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, int] = {}

    def start(self, stage: str, total: int | None) -> None:
        self.tasks[stage] = self.progress.add_task(stage, total=total)

    def update(self, stage: str, done: int, total: int | None) -> None:
        self.progress.update(self.tasks[stage], completed=done, total=total)

    def finish(self, stage: str) -> None:
        task = self.progress.tasks[self.tasks[stage]]
        self.progress.update(self.tasks[stage], completed=task.total or 1, total=task.total or 1)


def _ensure_data(c: Container) -> None:
    if not store_is_empty(c):
        return
    console.print("candle store is empty: downloading from", c.settings.data.exchange_id)
    try:
        download_missing(c)
    except NetworkUnavailable as exc:
        err_console.print(f"[bold red]{OFFLINE_HINT.format(venue=c.settings.data.exchange_id)}[/]\n({exc})")
        raise typer.Exit(3) from None


def run(ctx: typer.Context,
        once: bool = typer.Option(False, "--once", help="Run one bounded cycle, print a summary and exit."),
        generate: int = typer.Option(60, "--generate", min=0, help="Strategies to generate in the cycle."),
        seed: int | None = typer.Option(None, "--seed", help="Random seed of the generator."),
        live: bool = typer.Option(False, "--live", help="Real orders (needs executor.dry_run: false).")) -> None:
    """Run the pipeline: generate → validate → backtest → pool → rotate → execute (paper) → monitor."""
    c = open_container(ctx)
    if live:
        err_console.print("[bold red]live trading is not available in this version: only the paper broker is "
                          "implemented. Run without --live (paper trading is the default).[/]")
        raise typer.Exit(2)
    with friendly_errors():
        _ensure_data(c)
        if once:
            _run_once(c, generate, seed)
        else:
            Service(c, console.print).run_forever()


def _run_once(c: Container, generate: int, seed: int | None) -> None:
    columns = (TextColumn("{task.description:>9}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    t0 = time.perf_counter()
    with Progress(*columns, console=console, transient=False) as progress:
        report = run_once(c, generate, RichStageProgress(progress), seed)
    render_cycle(report)
    render_status(status_report(c))
    console.print(f"cycle finished in {time.perf_counter() - t0:.1f} s")
    if report.errors:  # the summary is printed; the exit code says a stage failed
        raise typer.Exit(1)


def render_cycle(report: CycleReport) -> None:
    """Print the windows, the items per stage and the wall time per stage."""
    w = report.window
    console.print(f"in-sample {w.is_start:%Y-%m-%d} → {w.oos_start:%Y-%m-%d}, out-of-sample → "
                  f"{w.replay_start:%Y-%m-%d}, paper replay → {w.replay_end:%Y-%m-%d %H:%M}")
    t = Table(title="cycle")
    t.add_column("stage")
    t.add_column("seconds", justify="right")
    for stage, sec in report.seconds.items():
        t.add_row(stage, f"{sec:.1f}")
    console.print(t)
    console.print("counts: " + ", ".join(f"{k}={v}" for k, v in report.counts.items()))
    for stage, error in report.errors.items():
        err_console.print(f"[bold red]stage {stage} failed:[/] {error}")
