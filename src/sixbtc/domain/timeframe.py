"""Timeframes of candles, with their length in milliseconds."""

from __future__ import annotations

from enum import StrEnum


class Timeframe(StrEnum):
    """A candle timeframe as written by Binance and ccxt (``"15m"``, ``"1h"``...)."""

    M1 = "1m"
    M5 = "5m"
    M15 = "15m"
    M30 = "30m"
    H1 = "1h"
    H4 = "4h"
    D1 = "1d"

    @property
    def ms(self) -> int:
        """Length of one bar in milliseconds."""
        return _MS[self]

    @property
    def bars_per_day(self) -> float:
        """Number of bars in 24 hours."""
        return 86_400_000 / _MS[self]

    @classmethod
    def parse(cls, value: str) -> Timeframe:
        """Parse ``value``; raise ``ValueError`` naming the accepted values if unknown."""
        try:
            return cls(value)
        except ValueError:
            accepted = ", ".join(t.value for t in cls)
            raise ValueError(f"unknown timeframe {value!r} (accepted: {accepted})") from None


_MS = {
    Timeframe.M1: 60_000,
    Timeframe.M5: 300_000,
    Timeframe.M15: 900_000,
    Timeframe.M30: 1_800_000,
    Timeframe.H1: 3_600_000,
    Timeframe.H4: 14_400_000,
    Timeframe.D1: 86_400_000,
}
