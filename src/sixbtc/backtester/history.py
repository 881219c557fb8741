"""The assigned timeframe's coins over their whole stored history, for the walk-forward
across regimes (``backtest.wfa_span: history``, :func:`~sixbtc.backtester.walkforward.walk_forward_history`).

Each coin of the run is reloaded from the start of its stored history (plus the warm-up
bars) to the OOS end, with the same signal source, sampled parameter list, direction and
costs. Coins start at different dates; so that every fold trades the same coins, the span
starts at the **latest** start among the coins whose history is at least half as long as
the longest one (a coin listed recently is left out instead of cutting everyone's
history), never later than the protocol's IS start. Only data before ``oos_end`` is read:
the confirmation and replay days stay unseen.
"""

from __future__ import annotations

import pandas as pd

from sixbtc.backtester.coinset import CoinSeries, load_series
from sixbtc.backtester.ports import CandleSource
from sixbtc.domain.timeframe import Timeframe


def history_series(candles: CandleSource, coins: list[CoinSeries], timeframe: str, is_start: pd.Timestamp,
                   oos_start: pd.Timestamp, oos_end: pd.Timestamp, warmup_bars: int) -> list[CoinSeries]:
    """The coins of ``coins`` reloaded over ``[history start, oos_end)`` (see the module notes).

    Returns
    -------
    list of CoinSeries
        ``i_is`` = the common history start, ``i_oos`` = ``oos_start``; empty when no coin
        has stored candles.
    """
    bar = pd.Timedelta(milliseconds=Timeframe.parse(timeframe).ms)
    firsts: dict[str, pd.Timestamp] = {}
    for c in coins:
        df = candles.read_candles(c.symbol, timeframe, None, oos_end)
        if len(df):
            firsts[c.symbol] = pd.Timestamp(df["timestamp"].iloc[0])
    if not firsts:
        return []
    longest = oos_end - min(firsts.values())
    kept = {s: t for s, t in firsts.items() if oos_end - t >= longest / 2}
    start = min(max(kept.values()) + bar * warmup_bars, is_start)
    out = []
    for c in coins:
        if c.symbol not in kept:
            continue
        s = load_series(candles, c.source, c.symbol, timeframe, (start, oos_start, oos_end), warmup_bars,
                        c.params_list, c.direction, c.costs)
        if s is not None:
            out.append(s)
    return out
