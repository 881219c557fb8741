"""What the validator stage needs from outside: read access to stored candles.

``sixbtc.adapters.storage.candle_store.ParquetCandleStore`` implements it; ``sixbtc.app``
wires it in (:func:`sixbtc.app.factory_roles.validation_sample`).
"""

from __future__ import annotations

from typing import Protocol

import pandas as pd


class CandleReader(Protocol):
    """Stored candle series (see ``sixbtc.data.ports.CandleStore``)."""

    def symbols(self, timeframe: str) -> list[str]:
        """Base assets stored for ``timeframe``."""
        ...

    def read_candles(self, symbol: str, timeframe: str, start: pd.Timestamp | None = None,
                     end: pd.Timestamp | None = None) -> pd.DataFrame:
        """Candles ``[start, end)`` (open times, UTC) with columns ``timestamp open high low
        close volume``, oldest first."""
        ...
