"""Clocks: one interface for live time and simulated (replay/backtest) time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Source of the current UTC time."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware UTC."""
        ...


class LiveClock:
    """Wall-clock UTC time."""

    def now(self) -> datetime:
        """Return ``datetime.now(UTC)``."""
        return datetime.now(UTC)


class SimClock:
    """A clock moved explicitly by a replay or a test.

    Parameters
    ----------
    start : datetime
        Initial time; must be timezone-aware.

    Raises
    ------
    ValueError
        If ``start`` is naive or ``advance_to`` would move time backwards.
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("SimClock start must be timezone-aware (UTC)")
        self._now = start

    def now(self) -> datetime:
        """Return the simulated time."""
        return self._now

    def advance_to(self, ts: datetime) -> None:
        """Move the simulated time forward to ``ts``."""
        if ts < self._now:
            raise ValueError(f"SimClock cannot go backwards: {ts} < {self._now}")
        self._now = ts
