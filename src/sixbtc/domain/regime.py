"""Market regimes of coins (SPEC §3.1, Unger method): TREND, REVERSAL or MIXED."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class MarketRegime(StrEnum):
    """Which simple test paid on a coin's recent history.

    ``TREND``: buying N-bar highs / selling N-bar lows paid; ``REVERSAL``: fading those
    breaks paid; ``MIXED``: neither paid more than the threshold (or too few breaks).
    """

    TREND = "TREND"
    REVERSAL = "REVERSAL"
    MIXED = "MIXED"


@dataclass(frozen=True)
class RegimeReading:
    """One coin's regime on one timeframe and window.

    Attributes
    ----------
    symbol, timeframe : str
    regime : MarketRegime
    breakout_metric, reversal_metric : float
        Net return of each test over the window, a fraction of the fixed test notional
        (0.05 = +5 %), long and short legs added, after fees and slippage.
    n_trades : int
        Trades of the breakout test (the reversal test trades the same bars).
    window_start, window_end : datetime
        UTC bounds ``[start, end)`` of the tested bars.
    computed_at : datetime or None
        When it was computed (set by the store).
    """

    symbol: str
    timeframe: str
    regime: MarketRegime
    breakout_metric: float
    reversal_metric: float
    n_trades: int
    window_start: datetime
    window_end: datetime
    computed_at: datetime | None = None
