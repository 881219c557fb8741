"""What the regime stage needs from outside: a backtest of one fixed-exit test leg."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import numpy as np


class LegRunner(Protocol):
    """Backtest one direction of a test with the project's engine (app/ wires it).

    ``__call__(ohlc, entries, direction, hold_bars, start)`` simulates entries (bool
    ``(n_bars,)``, acting at the next open) in ``direction`` (+1 long, -1 short), each
    position closed ``hold_bars`` bars after entry (no stop, no target), on bars
    ``[start, n_bars)`` of ``ohlc`` (float64 ``open high low close`` arrays of shape
    ``(n_bars,)``) with a fixed notional and the configured fees and slippage. Returns
    ``(net_return, n_trades)``: the net P&L as a fraction of that notional, and the trades.
    """

    def __call__(self, ohlc: Mapping[str, np.ndarray], entries: np.ndarray, direction: int,
                 hold_bars: int, start: int) -> tuple[float, int]: ...
