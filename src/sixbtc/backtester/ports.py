"""What the backtest protocol needs: candles and a (sandboxed) signal source."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pandas as pd


class CandleSource(Protocol):
    """Read access to the candle store (see ``sixbtc.data.ports.CandleStore``)."""

    def read_candles(self, symbol: str, timeframe: str, start: pd.Timestamp | None = None,
                     end: pd.Timestamp | None = None) -> pd.DataFrame: ...

    def read_funding(self, symbol: str, start: pd.Timestamp | None = None,
                     end: pd.Timestamp | None = None) -> pd.DataFrame: ...


class SignalSource(Protocol):
    """Signals of the strategy under test for many parameter sets (runs strategy code)."""

    def signals(self, data: dict[str, np.ndarray], params_list: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """(entries, exits), bool arrays of shape (n_params, n_bars); for a grid strategy (GRD)
        (center, step), float64 of that shape (:mod:`sixbtc.strategy.signal_pairs`)."""
        ...
