"""Benchmark: market-data throughput against the local fake Binance (no network).

Run: ``nice -n 10 .venv/bin/python benchmarks/bench_data.py [--days 120] [--symbols 4]``.

* download: ``sixbtc.data.downloader.download`` through the REAL ccxt client
  (``CcxtMarketData``) against :class:`sixbtc.testing.fake_binance.FakeBinance` on 127.0.0.1
  serving synthetic 1h candles (Binance page limit 1500), validation and Parquet writes
  included -> candles stored per second of wall time;
* verify: ``verify_store`` over the written store -> seconds per file.

* websocket: the live feed (:class:`~sixbtc.data.live_feed.StreamingCandleFeed` on the REAL
  ccxt pro client, :class:`~sixbtc.adapters.exchanges.ccxt_klines.CcxtKlineStream`) subscribed
  to ``--streams`` 1h streams (default 100) of the fake kline websocket, which runs in a child
  process (so its work and memory are not the feed's). Each of ``--rounds`` rounds closes one
  candle on every stream at once (as at every hour on Binance: a burst of 100 final updates);
  latency = the feed's clock when the closed candle is buffered minus the message's send time
  ``E`` (integer ms, as Binance sends it: 1 ms resolution, truncation makes it up to 1 ms
  pessimistic) -> p50 / p99 over all closed candles. A round ends when the background flusher
  has stored all its candles (hours apart on the venue: rounds never overlap); every candle
  must reach the store.
* feed memory: a second run (2 rounds) under ``tracemalloc`` (started after the imports and the
  store's history were written): the Python allocations still live after the
  rounds, i.e. the ccxt pro client (markets, connection, caches), the buffers and the flusher;
  MB = 2**20 bytes. (The resident-set delta is not used: freed arenas of the download part hide
  it.)

Last line: ``data: candles_per_s=C verify_s_per_file=V ws_p99_ms=W feed_mb=M``.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing as mp
import tempfile
import time
import tracemalloc
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np
import pandas as pd

from sixbtc.adapters.exchanges.ccxt_klines import CcxtKlineStream
from sixbtc.adapters.exchanges.ccxt_market import CcxtMarketData
from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.adapters.storage.candle_verify import verify_store
from sixbtc.core.clock import SimClock
from sixbtc.data.downloader import download
from sixbtc.data.live_feed import StreamingCandleFeed
from sixbtc.testing.fake_binance import FakeBinance
from sixbtc.testing.fake_binance_ws import FakeKlineServer


def _frame(days: int, seed: int, start: pd.Timestamp) -> pd.DataFrame:
    n = days * 24
    close = 100.0 * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 0.01, n)))
    return pd.DataFrame({"timestamp": pd.date_range(start, periods=n, freq="h"), "open": close,
                         "high": close * 1.002, "low": close * 0.998, "close": close, "volume": 1.0})


def _venue_process(conn: Connection, streams: int, start_ms: int, history: int) -> None:
    """Child process: the fake REST + kline websocket serving ``streams`` symbols; obeys ``conn``."""
    start = pd.Timestamp(start_ms, unit="ms", tz="UTC")
    frames = {(f"W{i}", "1h"): _frame(history // 24 + 10, 1000 + i, start) for i in range(streams)}
    now_ms = start_ms + (history + 24 * 10) * 3_600_000
    with FakeBinance(now_ms=now_ms, frames=frames) as venue, \
            FakeKlineServer(venue, start_ms=start_ms + history * 3_600_000) as ws:
        conn.send((venue.url, ws.ws_url))
        while (cmd := conn.recv()) != "stop":
            if cmd == "subscribed":
                conn.send(len(ws.subscribed()))
            elif cmd == "advance":
                conn.send(ws.advance(1))


def _websocket(streams: int, rounds: int, trace: bool) -> tuple[list[float], float, int]:
    """Latencies (ms), feed memory (MB, traced when ``trace``) and candles stored (see the module docstring)."""
    start = pd.Timestamp("2024-01-01", tz="UTC")
    start_ms, history = int(start.value // 1_000_000), 48
    parent, child = mp.get_context("spawn").Pipe()
    proc = mp.get_context("spawn").Process(target=_venue_process, args=(child, streams, start_ms, history), daemon=True)
    proc.start()
    rest_url, ws_url = parent.recv()
    names = [f"W{i}" for i in range(streams)]
    with tempfile.TemporaryDirectory() as tmp:
        clock = SimClock((start + pd.Timedelta(hours=history, seconds=1)).to_pydatetime())
        store = ParquetCandleStore(Path(tmp), clock=clock)
        for i, s in enumerate(names):
            store.write_candles(s, "1h", _frame(history // 24, 1000 + i, start))
        gc.collect()
        if trace:
            tracemalloc.start()
        rest = CcxtMarketData(api_url=rest_url, now_ms=lambda: int(clock.now().timestamp() * 1000))
        feed = StreamingCandleFeed(CcxtKlineStream(api_url=rest_url, ws_url=ws_url, batch_size=50, stagger_s=0.2),
                                   store, rest, clock, check_every_s=3600).start()
        feed.subscribe([(s, "1h") for s in names])
        while parent.send("subscribed") or parent.recv() < streams:
            time.sleep(0.05)
        for r in range(1, rounds + 1):
            clock.advance_to((start + pd.Timedelta(hours=history + r, seconds=1)).to_pydatetime())
            parent.send("advance")
            parent.recv()
            deadline = time.monotonic() + 120
            while feed.stats().stored < r * streams and time.monotonic() < deadline:  # buffered, then flushed
                time.sleep(0.002)
        feed.flush()  # what the background flusher has not stored yet
        flushed = feed.stats().stored
        gc.collect()
        feed_mb = tracemalloc.get_traced_memory()[0] / 2**20 if trace else float("nan")
        tracemalloc.stop()
        latencies = list(feed.latency_ms)
        feed.close()
    parent.send("stop")
    proc.join(10)
    return latencies, feed_mb, flushed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--symbols", type=int, default=4)
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=10)
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
    t0 = time.perf_counter()
    latencies, _, flushed = _websocket(args.streams, args.rounds, trace=False)
    print(f"websocket run: {time.perf_counter() - t0:.1f} s")
    _, feed_mb, _ = _websocket(args.streams, 2, trace=True)  # tracing slows it: not timed, 2 rounds
    expected = args.streams * args.rounds
    if len(latencies) != expected or flushed != expected:
        raise SystemExit(f"websocket: {len(latencies)} candles buffered, {flushed} flushed, {expected} expected")
    p50, p99 = np.percentile(latencies, [50, 99])
    print(f"websocket: {args.streams} streams x {args.rounds} closes (real ccxt pro, 127.0.0.1): send -> buffered "
          f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(latencies):.1f} ms; {flushed} candles flushed")
    print(f"feed memory: {feed_mb:.1f} MB traced (live Python allocations) at {args.streams} streams")
    print(f"data: candles_per_s={stored / elapsed:.0f} verify_s_per_file={verify_s:.4f} ws_p99_ms={p99:.1f} "
          f"feed_mb={feed_mb:.1f}")


if __name__ == "__main__":
    main()
