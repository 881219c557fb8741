"""Shared inputs of the peer cross-checks: real 1h perpetual candles and SMA-crossover signals.

The engine (:mod:`sixbtc.backtester`) is compared against vectorbt and backtesting.py on the
same candles and the same boolean entry/exit arrays. Signals are made flat at the end (no
entry on the last two bars, an exit signal on bar ``n - 2``) so that no position reaches
the end of the data: the engine's ``END_OF_DATA`` close has no counterpart in the peers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "binance_usdm"
N_BARS = 3000  # the last 3000 1h bars of each series (about four months)
FAST, SLOW = 10, 40  # SMA lengths of the crossover; the warm-up has no signal
INIT_CASH = 10_000.0


@dataclass(frozen=True)
class Candles:
    """OHLCV float64 arrays ``(n_bars,)`` of one symbol and the bar open times."""

    symbol: str
    time: pd.DatetimeIndex
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def crossover(self, direction: int) -> tuple[np.ndarray, np.ndarray]:
        """Bool ``(n_bars,)`` entry and exit arrays of an SMA(FAST)/SMA(SLOW) crossover.

        Long: enter when the fast SMA crosses above the slow one, exit when it crosses
        below; short: the mirror. Both arrays end flat (see the module docstring).
        """
        close = pd.Series(self.close)
        up = (close.rolling(FAST).mean() > close.rolling(SLOW).mean()).to_numpy()
        was_up = np.r_[False, up[:-1]]
        cross_up, cross_down = up & ~was_up, ~up & was_up
        cross_up[:SLOW] = cross_down[:SLOW] = False
        entries, exits = (cross_up, cross_down) if direction == 1 else (cross_down, cross_up)
        entries[-2:] = False
        exits[-2] = True
        return entries, exits


@pytest.fixture(scope="session", params=["BTC", "ETH"])
def candles(request) -> Candles:
    """The last :data:`N_BARS` 1h candles of BTC and of ETH (Binance USD-M perpetual)."""
    path = DATA / f"{request.param}_1h.parquet"
    if not path.exists():
        pytest.skip(f"real market data not found at {path} (needs <repo>/../shared/data)")
    df = pd.read_parquet(path).iloc[-N_BARS:]
    cols = {k: df[k].to_numpy(dtype=np.float64) for k in ("open", "high", "low", "close",
                                                         "volume")}
    return Candles(symbol=request.param, time=pd.DatetimeIndex(df["timestamp"]), **cols)
