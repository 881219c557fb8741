"""What the rotator needs from the rest of the system."""

from __future__ import annotations

from typing import Protocol

from sixbtc.domain.strategy import StrategyRecord


class RotationStore(Protocol):
    """Reads the pool and LIVE set, and promotes one strategy atomically."""

    def live(self) -> list[StrategyRecord]:
        """Strategies currently LIVE."""
        ...

    def pool_by_score(self) -> list[StrategyRecord]:
        """ACTIVE strategies, best score first."""
        ...

    def promote(self, strategy: StrategyRecord, reason: str) -> str:
        """Move ACTIVE → LIVE, assign a sub-account; return its label. Raises StaleClaim if it moved."""
        ...
