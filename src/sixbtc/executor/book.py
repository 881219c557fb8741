"""A LIVE strategy as the executor runs it, its sizing rule and its book (the state it trades on)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sixbtc.config.sections import RiskSection
from sixbtc.domain.trading import Direction
from sixbtc.executor.ports import BarCursor, BarKey, JournalOrder

Stream = tuple[str, str]  # (symbol, timeframe)


@dataclass(frozen=True)
class LiveStrategy:
    """A strategy the executor runs (parameters fixed by its backtest).

    ``capital_usd`` is the sub-account's capital, used as equity only when the store holds no
    balance for it. ``active`` False = the strategy no longer trades (retired or failed while
    holding positions): the executor only closes what it still holds (wind-down), from its
    positions and orders alone (``timeframe``, ``symbols``, ``direction`` and ``params`` are
    not used then). ``inputs`` are the strategy's declared extra inputs
    (:mod:`sixbtc.strategy.inputs`), asked of the history source with its candles.
    """

    id: int
    name: str
    timeframe: str
    symbols: tuple[str, ...]
    direction: Direction
    params: dict[str, Any]
    subaccount: str
    capital_usd: float
    active: bool = True
    inputs: tuple[str, ...] = ()


def entry_notional(equity_usd: float, sl_pct: float, risk: RiskSection) -> float:
    """Notional (USD) of a new position under ``risk.sizing`` (the backtests' rule too).

    :meth:`RiskSection.sizing_rule` → :meth:`sixbtc.domain.sizing.SizingRule.notional`: with
    ``risk.sizing: risk`` (default) ``equity × risk_per_trade / sl_pct`` capped by
    ``max_leverage × equity`` and ``max_notional_usd`` (SPEC §3.7 risk manager). Returns 0 when
    equity is not positive, or in risk mode when ``sl_pct`` is not a positive number.
    """
    return risk.sizing_rule().notional(equity_usd, sl_pct)


@dataclass
class Book:
    """One strategy's trading state, rebuilt from the store at start.

    ``equity_usd`` is the sub-account balance (capital + realised PnL, funding included).
    ``open``, ``pending`` and ``protect`` are keyed by stream: open positions (``positions``
    rows), the market order (entry or exit) sent or to be sent and not yet final, and the
    resting reduce-only stop/target orders of each position. ``cursor`` is the newest bar
    whose decision is committed (the resume point): bars up to it were processed before a
    restart. ``halted`` strategies make no decisions; ``flattened`` once their positions were
    ordered closed.
    """

    strategy: LiveStrategy
    equity_usd: float
    cursor: BarCursor | None = None
    open: dict[Stream, dict[str, Any]] = field(default_factory=dict)
    pending: dict[Stream, JournalOrder] = field(default_factory=dict)
    protect: dict[Stream, list[JournalOrder]] = field(default_factory=dict)
    halted: bool = False
    flattened: bool = False

    def done(self, key: BarKey) -> bool:
        """True when the bar with ``key`` was processed before (at or before the cursor)."""
        return self.cursor is not None and key <= self.cursor.key

    def n_exposed(self) -> int:
        """Open positions plus entries ordered but not yet filled (the open-position cap counts both)."""
        return len(self.open) + sum(1 for o in self.pending.values() if not o.reduce_only)

    def stream_of(self, symbol: str) -> Stream:
        """The stream this strategy trades or holds ``symbol`` on."""
        for stream in (*self.open, *self.pending, *self.protect):
            if stream[0] == symbol:
                return stream
        return symbol, self.strategy.timeframe

    def streams(self) -> set[Stream]:
        """Streams it trades or still holds something on."""
        own = {(sym, self.strategy.timeframe) for sym in self.strategy.symbols} if self.strategy.active else set()
        return own | set(self.open) | set(self.pending)
