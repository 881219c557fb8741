"""The data windows of one pipeline cycle: in-sample, out-of-sample, replay.

The replay (paper trading) takes the most recent ``executor.replay_days`` of the store;
backtests end where the replay begins, so paper trading runs on days the backtests did
not see.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sixbtc.config import Settings
from sixbtc.core.errors import DataError
from sixbtc.data.ports import CandleStore
from sixbtc.domain.timeframe import Timeframe


@dataclass(frozen=True)
class CycleWindow:
    """UTC bounds: IS ``[is_start, oos_start)``, OOS ``[oos_start, replay_start)``,
    replay ``[replay_start, replay_end)``."""

    is_start: pd.Timestamp
    oos_start: pd.Timestamp
    replay_start: pd.Timestamp
    replay_end: pd.Timestamp

    def to_json(self) -> dict[str, str]:
        """ISO strings (for passing to worker processes)."""
        return {k: getattr(self, k).isoformat() for k in ("is_start", "oos_start", "replay_start", "replay_end")}

    @classmethod
    def from_json(cls, raw: dict[str, str]) -> CycleWindow:
        """Inverse of :meth:`to_json`."""
        return cls(**{k: pd.Timestamp(v) for k, v in raw.items()})


def plan_window(store: CandleStore, settings: Settings) -> CycleWindow:
    """Windows ending at the newest closed candle of the backtest timeframes in ``store``.

    Raises
    ------
    DataError
        If the store holds no candles of the configured backtest timeframes.
    """
    tfs = set(settings.backtest.timeframes)
    ends = [e.last + pd.Timedelta(milliseconds=Timeframe.parse(e.timeframe).ms)
            for e in store.inventory() if e.timeframe in tfs]
    if not ends:
        raise DataError(f"the candle store has no candles for backtest.timeframes {sorted(tfs)}; "
                        "run `sixbtc data import PATH` or connect to the network")
    replay_end = max(ends)
    replay_start = replay_end - pd.Timedelta(days=settings.executor.replay_days)
    oos_start = replay_start - pd.Timedelta(days=settings.backtest.oos_days)
    return CycleWindow(oos_start - pd.Timedelta(days=settings.backtest.is_days), oos_start, replay_start, replay_end)


def symbols_by_timeframe(store: CandleStore, settings: Settings, window: CycleWindow,
                         preferred: list[str]) -> dict[str, list[str]]:
    """Coins per backtest timeframe whose candles cover warm-up + IS + OOS.

    ``preferred`` (active coins by volume) come first, then the rest alphabetically; at most
    ``backtest.max_coins`` per timeframe.
    """
    bt = settings.backtest
    rank = {s: i for i, s in enumerate(preferred)}
    out: dict[str, list[str]] = {}
    for tf in bt.timeframes:
        need_from = window.is_start - pd.Timedelta(milliseconds=Timeframe.parse(tf).ms * bt.warmup_bars)
        need_to = window.replay_start - pd.Timedelta(milliseconds=Timeframe.parse(tf).ms)
        ok = [e.symbol for e in store.inventory() if e.timeframe == tf and e.first <= need_from and e.last >= need_to]
        ok.sort(key=lambda s: (rank.get(s, len(rank)), s))
        if ok:
            out[tf] = ok[: bt.max_coins]
    return out
