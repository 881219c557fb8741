"""``sixbtc data download`` end to end: real ccxt client, fake Binance on 127.0.0.1, summary table."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.cli.main import app
from sixbtc.testing.fake_binance import FakeBinance, Fault


def test_download_prints_a_table_per_series_and_stores_everything(tmp_path: Path) -> None:
    now_ms = int(time.time() * 1000)
    start = pd.Timestamp(now_ms, unit="ms", tz="UTC").floor("h") - pd.Timedelta(days=10)
    ts = pd.date_range(start, periods=24 * 10, freq="h")
    close = 100.0 + np.arange(len(ts)) % 9
    candles = pd.DataFrame({"timestamp": ts, "open": close, "high": close + 1, "low": close - 1,
                            "close": close, "volume": 1.0})
    funding = pd.DataFrame({"timestamp": ts[::8], "rate": 1e-4})
    frames = {("BTC", "1h"): candles, ("BTC", "funding"): funding}
    with FakeBinance(now_ms=now_ms, frames=frames, page_limit=50) as fake:
        fake.faults = [Fault(status=429, retry_after="0")]
        root = tmp_path / "home"
        root.mkdir()
        (root / "config.yaml").write_text(
            f"data:\n  exchange_api_url: {fake.url}\n  history_days: 5\n  coins: [BTC]\n  timeframes: [1h]\n")
        res = CliRunner().invoke(app, ["--home", str(root), "data", "download"])
    assert res.exit_code == 0, res.output
    assert "download" in res.output and "symbol" in res.output and "FAILED" not in res.output
    assert "BTC 1h: full" in res.output and "BTC funding: full" in res.output
    stored = ParquetCandleStore(root / "data" / "binance").read_candles("BTC", "1h")
    assert len(stored) == 24 * 5 - 1 or len(stored) == 24 * 5  # the last 5 days of closed candles
