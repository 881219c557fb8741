"""The container wires its clock into every adapter that judges time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from sixbtc.app.container import Container
from sixbtc.app.home import Home
from sixbtc.config import Settings
from sixbtc.core.clock import SimClock


def _candles(start: str, n: int) -> pd.DataFrame:
    close = 100.0 + np.arange(n, dtype=np.float64)
    return pd.DataFrame({"timestamp": pd.date_range(start, periods=n, freq="1h", tz="UTC"), "open": close,
                         "high": close + 1, "low": close - 1, "close": close, "volume": np.full(n, 5.0)})


def test_the_candle_store_judges_future_candles_by_the_containers_clock(tmp_path: Path) -> None:
    """A simulated clock reaches the store (before: the store used the wall clock, so candles
    after the simulated "now" were stored)."""
    home = Home(tmp_path)
    home.ensure()
    c = Container(home, Settings(), SimClock(datetime(2025, 1, 1, 10, tzinfo=UTC)))
    stored = c.store.write_candles("BTC", "1h", _candles("2025-01-01 00:00", 24))
    assert stored == 10  # 00:00 … 09:00 have closed by 10:00; 10:00 is still forming, the rest future
    assert c.store.read_candles("BTC", "1h")["timestamp"].max() == pd.Timestamp("2025-01-01 09:00", tz="UTC")
