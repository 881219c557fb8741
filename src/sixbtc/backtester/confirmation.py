"""The confirmation window: a pool entrant's chosen parameters on days no choice has seen.

The out-of-sample window chooses (its metrics make the score and the gates), so it is not
a final test. After a strategy has passed the first backtest and the multiple-testing gate,
:func:`confirm` trades its chosen parameters, fixed, on its assigned timeframe and coins over
the confirmation window ``[start, end)`` (the last ``backtest.confirm_days`` before the
replay window, :class:`~sixbtc.app.window.CycleWindow`) and ranks its return among its
**twins** (its own signals circularly shifted by at least
:data:`~sixbtc.backtester.twins.MIN_SHIFT_DAYS` days, the same shift on every coin,
:mod:`sixbtc.backtester.twins`). Nothing of the result feeds back into the score, the gates
or pool entry; the rotator may require it (``rotator.require_confirmation``).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from sixbtc.backtester.coinset import load_series
from sixbtc.backtester.metrics import MS_PER_DAY
from sixbtc.backtester.ports import CandleSource, SignalSource
from sixbtc.backtester.twins import MIN_SHIFT_DAYS, WindowResult, draw_shifts, evaluate_window
from sixbtc.domain.timeframe import Timeframe


def confirm(signals: SignalSource, candles: CandleSource, symbols: list[str], timeframe: str, params: dict[str, Any],
            direction: int, window: tuple[pd.Timestamp, pd.Timestamp], *, warmup_bars: int,
            costs: tuple[float, float], n_twins: int, seed: int = 0) -> WindowResult | None:
    """Trade ``params`` on ``symbols`` over ``window`` and against ``n_twins`` twins.

    Parameters
    ----------
    signals : SignalSource
        The loaded strategy.
    candles : CandleSource
    symbols : list of str
        The assigned timeframe's coins.
    timeframe : str
        The assigned timeframe, e.g. ``"1h"``.
    params : dict
        The chosen parameter set (with ``sl_pct``/``tp_pct`` fractions).
    direction : int
        +1 long, -1 short.
    window : (start, end)
        UTC bounds of the confirmation window.
    warmup_bars : int
        Bars before ``start`` fed to the indicators only.
    costs : (fee_rate, slippage_bps)
        Fee per side (fraction of notional) and slippage (basis points).
    n_twins : int
        Twins wanted (0 = none: no percentile); fewer when the window admits fewer shifts.
    seed : int
        Seed of the twins' shifts.

    Returns
    -------
    WindowResult or None
        None when no coin covers warm-up + window.
    """
    start, end = window
    coins = [s for sym in symbols
             if (s := load_series(candles, signals, sym, timeframe, (start, start, end), warmup_bars, [params],
                                  direction, costs)) is not None]
    if not coins:
        return None
    span = min(c.n_bars - c.i_oos for c in coins)
    min_shift = max(1, math.ceil(MIN_SHIFT_DAYS * MS_PER_DAY / Timeframe.parse(timeframe).ms))
    shifts = draw_shifts(span, min_shift, n_twins, seed) if n_twins > 0 and span >= 2 * min_shift else []
    return evaluate_window(coins, 0, shifts)
