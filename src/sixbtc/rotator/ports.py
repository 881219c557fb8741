"""What the rotator needs from the rest of the system."""

from __future__ import annotations

from typing import Protocol

from sixbtc.domain.strategy import StrategyRecord
from sixbtc.rotator.correlation import DailyReturns


class RotationStore(Protocol):
    """Reads the pool and LIVE set, and promotes one strategy atomically."""

    def live(self) -> list[StrategyRecord]:
        """Strategies currently LIVE."""
        ...

    def pool_by_score(self) -> list[StrategyRecord]:
        """ACTIVE strategies, best score first."""
        ...

    def daily_returns(self, strategy_ids: list[int]) -> dict[int, DailyReturns | None]:
        """Out-of-sample daily returns of the newest backtest of each id (None when not stored)."""
        ...

    def promote(self, strategy: StrategyRecord, reason: str) -> str:
        """Move ACTIVE → LIVE, assign a sub-account; return its label. Raises StaleClaim if it moved."""
        ...

    def failed(self, strategy: StrategyRecord, detail: str) -> None:
        """Record that ``strategy`` could not be handled (event ``rotator:error``); it stays where it is."""
        ...
