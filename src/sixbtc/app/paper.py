"""Executor role on the paper venue: the LIVE set over the replay feed.

The paper venue (:class:`~sixbtc.adapters.exchanges.paper_venue.PaperVenue`) is fed each closed
candle in the venue-port order (:func:`feed_bar`)::

    venue.open_bar(bar, funding)   # market orders fill at the open, funding settles
    executor.sync(open time)       # the executor sees the fills: stops/targets placed on the venue
    venue.close_bar(bar)           # stops, targets, liquidations inside the bar
    executor.on_bar(bar)           # fills of the bar, then the decisions on the closed bar

so the trades equal the backtest engine's on the same candles (stops live from the entry
bar). On a live venue only ``executor.on_bar`` is called (the venue fills by itself).
:func:`paper_replay` replays the ``run --once`` window; the builder is
:func:`sixbtc.app.executor_build.build_executor`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pandas as pd

from sixbtc.app.container import Container
from sixbtc.app.executor_build import ArrayHistory, SandboxSignals, build_executor
from sixbtc.app.lease import ExecutorLease
from sixbtc.app.live_set import live_set
from sixbtc.app.window import CycleWindow
from sixbtc.data.replay import ReplayFeed
from sixbtc.domain.timeframe import Timeframe
from sixbtc.executor.engine import Executor
from sixbtc.executor.ports import Bar

__all__ = ["ArrayHistory", "FundingRates", "ReplayStats", "SandboxSignals", "build_executor", "feed_bar",
           "live_set", "paper_replay", "stored_streams"]


def feed_bar(executor: Executor, bar: Bar, funding_rate: float = 0.0) -> None:
    """Hand one closed candle to the executor, and first to its venue when it is a paper venue
    fed by this process (``open_bar``/``close_bar``, see the module docstring)."""
    venue = executor.venue
    if not hasattr(venue, "open_bar"):
        executor.on_bar(bar)
        return
    venue.open_bar(bar, funding_rate)
    executor.sync(int(bar.ts.timestamp() * 1000))
    venue.close_bar(bar)
    executor.on_bar(bar)


class FundingRates:
    """Funding rates of the store by settlement time, per symbol (read once): the rate a paper
    bar settles at its open (0 when no settlement falls on it; the backtest's alignment)."""

    def __init__(self, c: Container) -> None:
        self.c = c
        self._rates: dict[str, dict[int, float]] = {}

    def at(self, bar: Bar) -> float:
        """Rate settled at ``bar``'s open time (fraction), 0.0 for none."""
        if bar.symbol not in self._rates:
            df = self.c.store.read_funding(bar.symbol)
            ms = (pd.DatetimeIndex(df["timestamp"]).asi8 // 1_000_000).tolist()
            self._rates[bar.symbol] = dict(zip(ms, df["rate"].astype(float).tolist(), strict=True))
        return self._rates[bar.symbol].get(int(bar.ts.timestamp() * 1000), 0.0)


@dataclass(frozen=True)
class ReplayStats:
    """What a paper replay did; ``missing`` lists streams without stored candles (not replayed)."""

    bars: int
    strategies: int
    streams: int
    missing: tuple[tuple[str, str], ...] = ()


@contextlib.contextmanager
def held_lease(c: Container, lease: ExecutorLease | None, holder: str) -> Iterator[ExecutorLease]:
    """``lease`` if the caller holds one, else the executor lease for the ``with`` block."""
    if lease is not None:
        yield lease
        return
    with ExecutorLease(c, holder) as own:
        yield own


def paper_replay(c: Container, window: CycleWindow, on_tick: Callable[[int, int], None] | None = None,
                 lease: ExecutorLease | None = None) -> ReplayStats:
    """Paper-trade the LIVE set on the replay window, candle by candle.

    Holds the executor lease (``lease``, else its own for the replay). Streams without stored
    candles are left out (``ReplayStats.missing``); a strategy that fails is stopped by the
    executor and the others trade on.

    Raises
    ------
    LeaseHeld
        When another executor trades this database.
    """
    with held_lease(c, lease, "paper replay") as held:
        strategies = live_set(c)
        if not strategies:
            return ReplayStats(0, 0, 0)
        executor, signals = build_executor(c, strategies, window.replay_end, held)
        try:
            return _replay(c, executor, window, held, len(strategies), on_tick)
        finally:
            signals.close()


def stored_streams(c: Container, streams: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """``streams`` split into those with stored candles and those without (not traded)."""
    present = [s for s in streams if c.store.has(*s)]
    return present, [s for s in streams if s not in present]


def _replay(c: Container, executor: Executor, window: CycleWindow, lease: ExecutorLease, n_strategies: int,
            on_tick: Callable[[int, int], None] | None) -> ReplayStats:
    streams, missing = stored_streams(c, executor.streams())
    if not streams:
        return ReplayStats(0, n_strategies, 0, tuple(missing))
    total = sum(int(c.settings.executor.replay_days * Timeframe.parse(tf).bars_per_day) for _, tf in streams)
    n, rates = 0, FundingRates(c)
    for candle in ReplayFeed(c.store, streams, window.replay_start, window.replay_end):
        lease.check()
        bar = Bar(candle.symbol, candle.timeframe, candle.ts.to_pydatetime(), candle.open, candle.high, candle.low,
                  candle.close)
        feed_bar(executor, bar, rates.at(bar))
        n += 1
        if on_tick is not None and n % 200 == 0:
            on_tick(n, total)
    return ReplayStats(n, n_strategies, len(streams), tuple(missing))
