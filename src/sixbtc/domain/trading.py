"""Trading vocabulary shared by the backtester, the executor and the monitor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum


class Direction(StrEnum):
    """Which side a strategy trades."""

    LONG = "long"
    SHORT = "short"

    @property
    def sign(self) -> int:
        """+1 for long, -1 for short."""
        return 1 if self is Direction.LONG else -1


class ExitReason(IntEnum):
    """Why a position was closed. Integer values are used inside numba kernels."""

    SIGNAL = 0
    STOP_LOSS = 1
    TAKE_PROFIT = 2
    TIME_LIMIT = 3
    LIQUIDATION = 4
    END_OF_DATA = 5
    WIND_DOWN = 6  # closed at market because its strategy stopped trading (executor error, retirement)
    UNPROTECTED = 7  # closed at market because its protective stop could not be placed on the venue


class TradeMode(StrEnum):
    """Where a trade happened."""

    BACKTEST = "backtest"
    PAPER = "paper"
    LIVE = "live"


@dataclass(frozen=True)
class Trade:
    """One closed round-trip trade.

    Prices are in quote currency (USD/USDT); ``pnl_usd`` is net of fees and slippage;
    ``return_frac`` is the net return on notional as a fraction (0.01 = 1 %).
    """

    strategy_id: int
    symbol: str
    timeframe: str
    direction: Direction
    entry_ts: datetime
    entry_price: float
    exit_ts: datetime
    exit_price: float
    qty: float
    notional_usd: float
    fees_usd: float
    pnl_usd: float
    return_frac: float
    exit_reason: ExitReason
    mode: TradeMode


@dataclass(frozen=True)
class Metrics:
    """Performance metrics of one backtest or one live track record.

    All returns and drawdowns are fractions (0.10 = 10 %). Sharpe and Sortino are
    annualised with the bar frequency (sqrt(bars per year)) from per-bar equity returns.
    """

    total_return: float
    annual_return: float
    sharpe: float
    sortino: float
    max_drawdown: float
    win_rate: float
    profit_factor: float
    expectancy: float
    n_trades: int
    exposure: float
    avg_holding_bars: float
