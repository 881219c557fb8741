"""What the metrics collector needs from the rest of the system (``app`` wires it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class PoolMember:
    """An ACTIVE strategy as the pool statistics see it: ``source`` (generator source),
    ``score`` (0-100), out-of-sample ``sharpe`` and ``win_rate`` (fraction 0-1; None when
    not recorded)."""

    source: str
    score: float | None
    sharpe: float | None
    win_rate: float | None


class MetricsReads(Protocol):
    """Reads of the collector."""

    def counts_by_status(self) -> dict[str, int]:
        """Strategies per status now (every status present)."""
        ...

    def events_since(self, since: datetime) -> list[dict[str, Any]]:
        """Strategy events since ``since``, oldest first: ``strategy_id``, ``from_status``,
        ``to_status`` (None = deleted), ``phase``, ``reason``, ``ts`` (UTC)."""
        ...

    def pool_members(self) -> list[PoolMember]:
        """Every ACTIVE strategy."""
        ...

    def trading_state(self) -> str:
        """The global trading state: ``ACTIVE``, ``REDUCING`` or ``HALTED``."""
        ...
