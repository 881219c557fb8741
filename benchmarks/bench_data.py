"""Benchmark: market-data throughput against the local fake Binance (no network).

Run: ``nice -n 10 .venv/bin/python benchmarks/bench_data.py [--days 120] [--symbols 4]``.

* download: ``sixbtc.data.downloader.download`` through the REAL ccxt client
  (``CcxtMarketData``) against :class:`sixbtc.testing.fake_binance.FakeBinance` on 127.0.0.1
  serving synthetic 1h candles (Binance page limit 1500), validation and Parquet writes
  included -> candles stored per second of wall time;
* verify: ``verify_store`` over the written store -> seconds per file.

The websocket figures (latency server send -> buffered at 100 streams, feed memory at 100
streams) need the websocket live feed, which is not built yet: they are printed as ``n/a``
(not measured). Last line: ``data: candles_per_s=C verify_s_per_file=V ws_p99_ms=W feed_mb=M``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sixbtc.adapters.exchanges.ccxt_market import CcxtMarketData
from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.adapters.storage.candle_verify import verify_store
from sixbtc.core.clock import SimClock
from sixbtc.data.downloader import download
from sixbtc.testing.fake_binance import FakeBinance


def _frame(days: int, seed: int, start: pd.Timestamp) -> pd.DataFrame:
    n = days * 24
    close = 100.0 * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 0.01, n)))
    return pd.DataFrame({"timestamp": pd.date_range(start, periods=n, freq="h"), "open": close,
                         "high": close * 1.002, "low": close * 0.998, "close": close, "volume": 1.0})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--symbols", type=int, default=4)
    args = parser.parse_args()
    start = pd.Timestamp("2024-01-01", tz="UTC")
    now_ms = int(start.value // 1_000_000) + args.days * 86_400_000 + 60_000
    names = [f"C{i}" for i in range(args.symbols)]
    frames = {(s, "1h"): _frame(args.days, i, start) for i, s in enumerate(names)}
    with tempfile.TemporaryDirectory() as tmp, FakeBinance(now_ms=now_ms, frames=frames) as fake:
        client = CcxtMarketData(exchange=fake.ccxt_exchange(), now_ms=lambda: now_ms)
        client.list_symbols()
        store = ParquetCandleStore(Path(tmp))
        t0 = time.perf_counter()
        results = download(client, store, names, ["1h"], history_days=args.days + 1, now_ms=now_ms, funding=False)
        elapsed = time.perf_counter() - t0
        stored = sum(r.stored for r in results)
        print(f"download: {stored:,} candles in {elapsed:.2f} s ({len(names)} series, real ccxt, 127.0.0.1)")
        clock = SimClock(pd.Timestamp(now_ms, unit="ms", tz="UTC").to_pydatetime())
        t0 = time.perf_counter()
        checks = verify_store(Path(tmp), clock)
        verify_s = (time.perf_counter() - t0) / max(1, len(checks))
        print(f"verify: {len(checks)} files, {verify_s:.4f} s per file")
    print("websocket: n/a (live websocket feed not built yet)")
    print(f"data: candles_per_s={stored / elapsed:.0f} verify_s_per_file={verify_s:.4f} ws_p99_ms=n/a feed_mb=n/a")


if __name__ == "__main__":
    main()
