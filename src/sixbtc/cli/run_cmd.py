"""``sixbtc run``: the pipeline, once (bounded cycle) or as a service.

Paper trading by default. Live trading is gated (:mod:`sixbtc.app.live_mode`): ``--live`` and
``executor.dry_run: false`` are both needed (one alone refuses, exit 2), then the agent key
(environment or a mode-0600 file), then a warning naming what will trade and a
:data:`~sixbtc.app.live_mode.LIVE_DELAY_S` s wait; then the service trades on Hyperliquid
(:func:`sixbtc.app.venues.open_venue`). ``--live`` runs the service only (``--once`` replays
stored candles: refused). SIGINT and SIGTERM stop cleanly and exit with the
shell's convention ``128 + signal``: 130 for SIGINT, 143 for SIGTERM.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sixbtc.app.live_mode import LIVE_DELAY_S
from sixbtc.cli.context import console, err_console, friendly_errors, open_container, table

if TYPE_CHECKING:
    from sixbtc.app.container import Container
    from sixbtc.app.once import CycleReport
    from sixbtc.app.service import Service

#: Seconds the worker processes get to stop on their own (a SIGTERM sent to the whole process
#: group reaches them directly) before a SIGTERM sent to ``sixbtc`` alone is passed on to them.
FORWARD_AFTER_S = 1.0
LIVE_HELP = ("Trade for real: needs executor.dry_run: false as well, and the agent key (environment or a "
             "chmod-600 exchange.agent_key_file); prints what will trade and waits 5 s, then trades on "
             "exchange.execution_venue. Paper trading is the default.")


class _Shutdown:
    """Turns SIGTERM into ``KeyboardInterrupt`` (like SIGINT) and remembers the signal."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.service: Service | None = None

    def on_sigterm(self, signum: int, _frame: object) -> None:
        if self.signum is not None:
            return  # already stopping: a repeated SIGTERM must not interrupt the clean-up
        self.signum = signum
        threading.Timer(FORWARD_AFTER_S, _forward_to_workers, (signum,)).start()
        raise KeyboardInterrupt

    def exit_code(self) -> int:
        signum = self.signum or (self.service.signum if self.service is not None else None)
        return 128 + (signum or signal.SIGINT)


def _forward_to_workers(signum: int) -> None:
    """Pass the signal on to the worker processes still running (they release their claims)."""
    for child in multiprocessing.active_children():
        if child.pid is not None:
            with suppress(ProcessLookupError):
                os.kill(child.pid, signum)


@contextmanager
def _stop_on_signals() -> Iterator[_Shutdown]:
    """Run the body with SIGTERM raising ``KeyboardInterrupt``; exit ``128 + signal`` on either."""
    shutdown = _Shutdown()
    previous = signal.signal(signal.SIGTERM, shutdown.on_sigterm)
    try:
        yield shutdown
    except KeyboardInterrupt:
        code = shutdown.exit_code()
        err_console.print(f"stopped by {signal.Signals(code - 128).name}")
        raise typer.Exit(code) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    if shutdown.service is not None and shutdown.service.signum is not None:
        err_console.print(f"stopped by {signal.Signals(shutdown.service.signum).name}")
        raise typer.Exit(128 + shutdown.service.signum)


def _gate(c: Container, live: bool, once: bool, delay_s: float) -> None:
    """Paper, or the live gate: both signals, the agent key, the warning and the wait, then the
    venue client is built (no request sent yet). Exit 2 on a refusal."""
    from sixbtc.app.live_mode import live_plan, live_warning, trading_mode
    from sixbtc.app.venues import open_venue

    with friendly_errors():
        if trading_mode(c.settings, live, once=once) == "paper":
            return
        plan = live_plan(c)
    err_console.print(f"[bold red]{escape(live_warning(plan))}[/]", highlight=False)
    remaining = delay_s
    while remaining > 0:
        err_console.print(f"starting in {math.ceil(remaining)} s (Ctrl-C aborts)")
        step = min(1.0, remaining)
        time.sleep(step)
        remaining -= step
    with friendly_errors():
        open_venue(c)  # the live client with its agent key: a refusal here sends nothing


def _ensure_data(c: Container) -> None:
    """Download ``data.coins`` × ``data.timeframes`` when the store has no backtest timeframe."""
    from sixbtc.app.market import OFFLINE_HINT, download_missing, store_is_empty
    from sixbtc.core.errors import NetworkUnavailable

    if not store_is_empty(c):
        return
    held = _held_timeframes(c)
    venue = c.settings.data.exchange_id
    console.print(_store_summary(c, held) + f": downloading from {venue}", highlight=False)
    try:
        download_missing(c)
    except NetworkUnavailable as exc:
        hint = OFFLINE_HINT.format(venue=venue) if not held else (
            f"cannot reach {venue}: the network is unreachable and the store holds no candles of "
            f"backtest.timeframes. Import candles of those timeframes with `sixbtc data import PATH`, "
            f"or set backtest.timeframes to stored ones ({', '.join(held)}).")
        err_console.print(f"[bold red]{escape(hint)}[/]\n({escape(str(exc))})")
        raise typer.Exit(3) from None


def _held_timeframes(c: Container) -> dict[str, list[str]]:
    """Stored timeframe -> symbols."""
    held: dict[str, list[str]] = {}
    for entry in c.store.inventory():
        held.setdefault(entry.timeframe, []).append(entry.symbol)
    return held


def _store_summary(c: Container, held: dict[str, list[str]]) -> str:
    """What the store holds against ``backtest.timeframes`` (called when none of them is there)."""
    wanted = ", ".join(c.settings.backtest.timeframes)
    if not held:
        return f"candle store {c.store.root} is empty (backtest.timeframes: {wanted})"
    holds = "; ".join(f"{tf} ({len(syms)} coin{'s' if len(syms) > 1 else ''}: {', '.join(syms[:5])}"
                      f"{', …' if len(syms) > 5 else ''})" for tf, syms in held.items())
    return (f"candle store {c.store.root} holds no candles of backtest.timeframes ({wanted}); "
            f"it holds {holds}")


def run(ctx: typer.Context,
        once: bool = typer.Option(False, "--once", help="Run one bounded cycle, print a summary and exit."),
        generate: int = typer.Option(60, "--generate", min=0, help="Strategies to generate in the cycle."),
        seed: int | None = typer.Option(None, "--seed", help="Random seed of the generator."),
        live: bool = typer.Option(False, "--live", help=LIVE_HELP),
        live_delay_s: float = typer.Option(LIVE_DELAY_S, "--live-delay-s", min=0, max=LIVE_DELAY_S, hidden=True,
                                           help="Tests only: seconds --live waits after its warning."),
        dashboard: bool = typer.Option(False, "--dashboard", help="Also serve the dashboard and its API on "
                                       "api.host:api.port (service mode; prints the URL and token).")) -> None:
    """Run the pipeline: generate → validate → backtest → pool → rotate → execute (paper) → monitor."""
    c = open_container(ctx)
    _gate(c, live, once, live_delay_s)
    with _stop_on_signals() as shutdown, friendly_errors():
        _ = c.engine  # an unreachable database fails now, not after a download
        server = _start_dashboard(c) if dashboard and not once else None
        try:
            _ensure_data(c)
            if once:
                _run_once(c, generate, seed)
            else:
                from sixbtc.app.logs import bind_role, configure_logging
                from sixbtc.app.processes import worker_id
                from sixbtc.app.service import Service

                configure_logging(c.settings)  # JSON lines unless standard error is a terminal
                bind_role("run", worker_id("run"))
                shutdown.service = Service(c, console.print)
                shutdown.service.run_forever()
        finally:
            if server is not None:
                server.should_exit = True


def _start_dashboard(c: Container) -> object:
    """Serve the dashboard in a thread of this process (its own container); return the server."""
    from sixbtc.api.server import prepare, serve_in_thread
    from sixbtc.app.container import Container as AppContainer
    from sixbtc.cli.api_cmd import show_dashboard

    server, info = prepare(AppContainer(c.home, c.settings))
    serve_in_thread(server)
    show_dashboard(info)
    return server


class RichStageProgress:
    """Rich progress bars for long stages (the callbacks of :class:`sixbtc.app.once.StageProgress`)."""

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


def _run_once(c: Container, generate: int, seed: int | None) -> None:
    from sixbtc.app.once import run_once
    from sixbtc.app.status import status_report
    from sixbtc.cli.status_cmd import render_status

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
    for note in w.notes:
        err_console.print(f"[yellow]warning:[/] {escape(note)}", highlight=False)
    t = table("cycle", ("stage", "seconds"), right=("seconds",))
    for stage, sec in report.seconds.items():
        t.add_row(stage, f"{sec:.1f}")
    console.print(t)
    console.print("counts: " + ", ".join(f"{k}={v}" for k, v in report.counts.items()))
    for stage, error in report.errors.items():
        err_console.print(f"[bold red]stage {stage} failed:[/] {error}")
