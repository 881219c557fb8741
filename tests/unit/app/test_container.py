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


def test_the_candle_store_keeps_data_frame_cache_frames_in_memory(tmp_path: Path, monkeypatch) -> None:
    """``data.frame_cache`` frames stay read: a pass over as many coins as it holds reads each
    file once, not once per strategy; one frame fewer and the cyclic passes re-read every file
    (what the former fixed LRU of 32 did to a backtest over ~65 frames)."""
    home = Home(tmp_path)
    home.ensure()
    clock = SimClock(datetime(2025, 1, 3, tzinfo=UTC))
    symbols = [f"C{i}" for i in range(6)]
    for sym in symbols:
        Container(home, Settings(), clock).store.write_candles(sym, "1h", _candles("2025-01-01 00:00", 24))
    reads: list[str] = []
    real = pd.read_parquet
    monkeypatch.setattr(pd, "read_parquet", lambda path, *a, **k: reads.append(str(path)) or real(path, *a, **k))
    for size, expected in ((6, 6), (5, 18)):
        reads.clear()
        c = Container(home, Settings(data={"frame_cache": size}), clock)
        for _ in range(3):  # three strategies' backtests over the same coins
            for sym in symbols:
                assert len(c.store.read_candles(sym, "1h")) == 24
        assert len([p for p in reads if p.endswith("_1h.parquet")]) == expected, size
