"""Market-regime use case (SPEC §3.1, 01:05 UTC): classify the active coins, store the readings.

The tests run with the project's engine (:func:`sixbtc.backtester.engine.run_grid`: next-open
fills, the ``backtest`` section's fees and slippage, no funding) on the last
``regime.window_days`` of ``regime.timeframe`` candles before the cycle's replay window (the
same end as the backtests' data, so the days paper trading replays never steer generation).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import numpy as np
import pandas as pd

from sixbtc.app.container import Container
from sixbtc.app.window import CycleWindow, plan_window
from sixbtc.backtester.engine import run_grid
from sixbtc.backtester.metrics import bars_per_year
from sixbtc.config.sections import BacktestSection
from sixbtc.core.errors import DataError
from sixbtc.domain.regime import RegimeReading
from sixbtc.domain.timeframe import Timeframe
from sixbtc.regime import measure_regime
from sixbtc.regime.ports import LegRunner

#: Test notional and starting cash (USD): cash >> notional, so every trade has the same size.
NOTIONAL_USD, CASH_USD = 10_000.0, 1_000_000.0
#: Readings older than this are deleted at each refresh.
KEEP = timedelta(days=30)
#: ``run --once`` recomputes when the newest reading is at least this old.
MAX_AGE = timedelta(days=1)


def engine_leg_runner(bt: BacktestSection, timeframe: str) -> LegRunner:
    """The :class:`~sixbtc.regime.ports.LegRunner` on the project's engine: fixed notional
    ``NOTIONAL_USD``, time exit only, ``bt.fee_rate`` and ``bt.slippage_bps``."""
    per_year = bars_per_year(Timeframe.parse(timeframe).ms)

    def run(ohlc: Mapping[str, np.ndarray], entries: np.ndarray, direction: int, hold_bars: int,
            start: int) -> tuple[float, int]:
        g = run_grid(ohlc["open"], ohlc["high"], ohlc["low"], ohlc["close"], entries, np.zeros_like(entries),
                     0.0, 0.0, direction=direction, fee_rate=bt.fee_rate, slippage_bps=bt.slippage_bps,
                     max_bars_held=hold_bars, init_cash=CASH_USD, start=start, bars_per_year=per_year,
                     sizing="fixed_notional", notional_usd=NOTIONAL_USD)
        return float(g.total_return[0]) * CASH_USD / NOTIONAL_USD, int(g.n_trades[0])

    return run


def regime_symbols(c: Container) -> list[str]:
    """Active coins (by volume) stored on ``regime.timeframe``; with no coin registry yet,
    every stored symbol; at most ``backtest.max_coins``."""
    tf = c.settings.regime.timeframe
    active = c.registry.get_active_pairs()
    symbols = [s for s in active if c.store.has(s, tf)] or sorted(c.store.symbols(tf))
    return symbols[: c.settings.backtest.max_coins]


def _frame_arrays(df: pd.DataFrame) -> dict[str, np.ndarray]:
    return {k: df[k].to_numpy(dtype=np.float64) for k in ("open", "high", "low", "close")}


def refresh_market_regimes(c: Container, window: CycleWindow | None = None) -> list[RegimeReading]:
    """Classify every :func:`regime_symbols` coin and store the readings (old ones pruned).

    A coin with fewer than ``2 * breakout_bars + hold_bars`` bars in the window, or whose
    candles cannot be read, is skipped. Returns the stored readings.

    Raises
    ------
    DataError
        If the store is empty (no window can be planned).
    """
    cfg = c.settings.regime
    window = window or plan_window(c.store, c.settings, c.clock)
    tf_ms = Timeframe.parse(cfg.timeframe).ms
    end = window.replay_start
    start = end - pd.Timedelta(days=cfg.window_days)
    history = start - pd.Timedelta(milliseconds=tf_ms * cfg.breakout_bars)
    run = engine_leg_runner(c.settings.backtest, cfg.timeframe)
    readings = []
    for symbol in regime_symbols(c):
        try:
            df = c.store.read_candles(symbol, cfg.timeframe, history, end)
        except DataError:
            continue
        first = int((df["timestamp"] < start).sum())
        if len(df) - first < 2 * cfg.breakout_bars + cfg.hold_bars:
            continue
        t = measure_regime(_frame_arrays(df), run, breakout_bars=cfg.breakout_bars, hold_bars=cfg.hold_bars,
                           start=first, min_edge=cfg.min_edge)
        readings.append(RegimeReading(symbol, cfg.timeframe, t.regime, t.breakout_metric, t.reversal_metric,
                                      t.n_trades, df["timestamp"].iloc[first].to_pydatetime(), end.to_pydatetime()))
    c.regimes.add_many(readings)
    c.regimes.prune(c.clock.now() - KEEP)
    return readings


def refresh_if_due(c: Container, window: CycleWindow | None = None) -> list[RegimeReading] | None:
    """:func:`refresh_market_regimes` when ``regime.enabled`` and the newest reading is
    ``MAX_AGE`` old or missing; None when nothing was due."""
    if not c.settings.regime.enabled:
        return None
    last = c.regimes.last_computed_at()
    if last is not None and c.clock.now() - last < MAX_AGE:
        return None
    return refresh_market_regimes(c, window)


def coin_regimes(c: Container) -> dict[str, str]:
    """Newest regime per coin on ``regime.timeframe`` (the generator's input); empty when
    ``regime.enabled`` is off or nothing was computed."""
    if not c.settings.regime.enabled:
        return {}
    return {sym: str(r.regime) for (sym, _), r in c.regimes.latest(c.settings.regime.timeframe).items()}
