"""Benchmark: the first backtest at the spec's scale (4 timeframes x 30 coins x 1,000 sets), run.

Run: ``nice -n 5 .venv/bin/python benchmarks/bench_scale.py [--no-table] [--validate 6]``.
Prints figures; asserts nothing about time. Last line:
``scale: first_backtest_s=F peak_mb=M retest_s=R validate_ms=V``.

What runs: ``bench_engine.py``'s SMA-crossover strategy (1,000 parameter sets) through the real
path (:class:`~sixbtc.strategy.sandbox.StrategySandbox` + ``run_backtest``: successive-halving
search, OOS, walk-forward, shuffle test; the verdict gates that would stop it before the last
stage relaxed: degradation, excess over holding, WFA consistency, shuffle p-value), default
settings, windows of ``run --once`` (IS 120 d, OOS 60 d, warm-up 250 bars), then
``run_retest`` twice in one new sandbox — ``retest_fresh_sandbox_s`` the first (sandbox boot
included), ``retest_s`` the second (load + re-test in the running sandbox: the backtester role
keeps one sandbox for every re-test it runs) — on an in-memory candle source of 30 series per timeframe
built from ``../shared/data/binance_usdm`` (printed per timeframe):

* **1h**: 30 coins (``bench_protocol.symbols`` order), their own 1h candles and funding.
* **4h**: the same 30 coins: their 4h file where it covers the window, else their 1h candles
  aggregated to 4h (UTC-aligned, exact OHLCV aggregation); their funding.
* **15m, 30m**: the store has 15m/30m for 3-5 coins only. The six coins with 5m files (BTC,
  ETH, SOL, BNB, DOGE, XRP: 2024-12-31 .. 2026-01-31) are aggregated to 15m / 30m; each
  gives 5 series: its own candles (``BTC``, with its funding) and the same candles delayed by
  ``w * N / 5`` bars (``BTC~w``, w = 1..4, N = the bars the window needs; re-stamped so they
  end at the same time; no funding). Real price paths, but 4 of 5 overlap with the coin's own
  series: this measures cost, not strategy quality.

Peak memory = ``VmHWM`` of this process + of the sandbox worker. ``validate_ms`` = median
sandbox overhead per strategy of a validation (``bench_validator.bench_per_strategy``'s
method: validation in the sandbox minus the same validation in-process, ``--validate``
generated strategies). The scaling table re-runs the first backtest on 1h only, at 3 sizes of
coins, of bars (IS days) and of parameter sets.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time
from typing import Any

import bench_engine as be
import bench_protocol as bp
import numpy as np
import pandas as pd

from sixbtc.app.factory_roles import backtest_plan
from sixbtc.backtester.protocol import run_backtest, run_retest
from sixbtc.config import Settings
from sixbtc.domain.timeframe import Timeframe
from sixbtc.strategy.sandbox import StrategySandbox

TFS, COINS = ("15m", "30m", "1h", "4h"), 30
FINE_COINS = ("BTC", "ETH", "SOL", "BNB", "DOGE", "XRP")
AGG = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}


class MemoryCandles:
    """CandleSource over in-memory frames ``{(symbol, tf): candles}``; ``BTC~2`` funds nothing."""

    def __init__(self, frames: dict[tuple[str, str], pd.DataFrame], files: bp.ParquetFiles) -> None:
        self.frames, self.files = frames, files

    def read_candles(self, symbol: str, timeframe: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        return bp.ParquetFiles._slice(self.frames[(symbol, timeframe)], start, end)

    def read_funding(self, symbol: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        if "~" in symbol:
            return pd.DataFrame({"timestamp": pd.DatetimeIndex([], tz="UTC"), "rate": []})
        return self.files.read_funding(symbol, start, end)


def aggregate(df: pd.DataFrame, tf: str) -> pd.DataFrame:
    """Candles aggregated to ``tf`` (complete periods only, UTC-aligned)."""
    step = pd.Timedelta(milliseconds=Timeframe.parse(tf).ms)
    g = df.set_index("timestamp").resample(step, label="left", closed="left")
    out = g.agg(AGG)
    out = out[g.size() == int(step / (df["timestamp"].iloc[1] - df["timestamp"].iloc[0]))]
    return out.reset_index()


def bars_needed(tf: str, window, warmup: int) -> int:
    step = pd.Timedelta(milliseconds=Timeframe.parse(tf).ms)
    return int((window.replay_start - window.is_start) / step) + warmup


def build(files: bp.ParquetFiles, window, warmup: int) -> tuple[dict, dict[str, list[str]], list[str]]:
    """Frames, symbols per timeframe, and a description line per timeframe."""
    frames: dict[tuple[str, str], pd.DataFrame] = {}
    by_tf: dict[str, list[str]] = {}
    notes = []
    coins = bp.symbols(["1h"], COINS)["1h"]
    need_4h = window.is_start - warmup * pd.Timedelta(hours=4)
    n_agg = 0
    for c in coins:
        frames[(c, "1h")] = files.read_candles(c, "1h")
        own = files.read_candles(c, "4h")
        if len(own) and own["timestamp"].iloc[0] <= need_4h:
            frames[(c, "4h")] = own
        else:
            frames[(c, "4h")], n_agg = aggregate(frames[(c, "1h")], "4h"), n_agg + 1
    by_tf["1h"], by_tf["4h"] = list(coins), list(coins)
    notes.append(f"1h: {len(coins)} coins, own candles; 4h: {len(coins)} coins, {n_agg} aggregated from 1h")
    for tf in ("15m", "30m"):
        n = bars_needed(tf, window, warmup)
        step = pd.Timedelta(milliseconds=Timeframe.parse(tf).ms)
        by_tf[tf] = []
        for c in FINE_COINS:
            base = aggregate(files.read_candles(c, "5m"), tf)
            for w in range(5):
                shift = w * n // 5
                df = base.iloc[:len(base) - shift].copy()
                df["timestamp"] = df["timestamp"] + shift * step
                sym = c if w == 0 else f"{c}~{w}"
                frames[(sym, tf)] = df.reset_index(drop=True)
                by_tf[tf].append(sym)
        notes.append(f"{tf}: 6 coins' 5m candles aggregated to {tf} x 5 delays of {n // 5:,} bars = 30 series")
    return frames, by_tf, notes


def first_backtest(candles, plan, strategy: str, params_limit: int | None = None) -> dict[str, Any]:
    """One first backtest in a fresh sandbox; wall time, trials, peak RSS of the worker."""
    t0 = time.perf_counter()
    with StrategySandbox() as box:
        spec = box.load(strategy)
        params = spec.grid() if params_limit is None else spec.grid()[:params_limit]
        out = run_backtest(box, candles, plan, params, spec.direction.sign)
        worker_mb = be.vm_hwm_mb(box.worker_pid) if box.worker_pid else float("nan")
    sims = out.trials + (out.shuffle.simulations if out.shuffle else 0)
    return {"s": time.perf_counter() - t0, "out": out, "sims": sims, "worker_mb": worker_mb,
            "sets": len(params)}


def relaxed(plan):
    """``plan`` with the verdict gates that would stop it before the walk-forward and the
    shuffle test opened (degradation, excess over holding, WFA consistency, shuffle p-value)."""
    return dataclasses.replace(plan, max_degradation=float("inf"), min_excess_return=-float("inf"),
                               wfa_min_consistency=0.0, shuffle_max_pvalue=1.0)


def validate_ms(n: int) -> float:
    """Median sandbox overhead (ms) per strategy of one validation (bench_validator's method)."""
    import bench_validator as bv

    from sixbtc.generator.factory import generate
    from sixbtc.validator import validate

    sample, _ = bv.load_sample()
    bv.EXTRAS[:] = bv.load_extras()
    extra = []
    with StrategySandbox(keep_spare=True) as sb:
        for cand in generate(n, np.random.default_rng(7)).candidates:
            t0 = time.perf_counter()
            try:  # bench_validator's in-process peer lacks some extra inputs (open_time)
                validate(cand.code, bv.InProcess(), sample, allowed_warmup=250, extra_samples=bv.EXTRAS)
            except KeyError:
                continue
            t0 = time.perf_counter()
            validate(cand.code, bv.InProcess(), sample, allowed_warmup=250, extra_samples=bv.EXTRAS)
            t1 = time.perf_counter()
            validate(cand.code, bv.Counting(sb), sample, allowed_warmup=250, extra_samples=bv.EXTRAS)
            extra.append((time.perf_counter() - t1) - (t1 - t0))
    return statistics.median(extra) * 1e3


def table(candles, by_tf, bt, window) -> None:
    """First backtest on 1h only at 3 sizes of coins, bars (IS days) and parameter sets."""
    print("scaling (1h only, first backtest, gates relaxed): size -> wall s, simulations, sims/s")
    rows = [("coins", k, {"1h": by_tf["1h"][:k]}, window, None) for k in (10, 20, 30)]
    for days in (60, 120, 240):
        w = dataclasses.replace(window, is_start=window.oos_start - pd.Timedelta(days=days))
        rows.append(("is_days", days, {"1h": by_tf["1h"]}, w, None))
    rows += [("param_sets", k, {"1h": by_tf["1h"]}, window, k) for k in (250, 500, 1000)]
    for name, size, syms, w, limit in rows:
        r = first_backtest(candles, relaxed(backtest_plan(bt, w, syms, "scale")), be.STRATEGY, limit)
        print(f"  {name}={size}: {r['s']:.2f} s, {r['sims']:,} sims, {r['sims'] / r['s']:,.0f} sims/s; "
              f"load {os.getloadavg()[0]:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-table", action="store_true")
    ap.add_argument("--validate", type=int, default=6, help="generated strategies of validate_ms")
    args = ap.parse_args()
    settings = Settings.model_validate({"backtest": {"max_param_sets": 1000}})
    bt = settings.backtest
    files = bp.ParquetFiles(be.DATA)
    window = bp.default_window(files, settings)
    frames, by_tf, notes = build(files, window, bt.warmup_bars)
    candles = MemoryCandles(frames, files)
    print(f"machine: {len(os.sched_getaffinity(0))} cores, load average {os.getloadavg()[0]:.1f}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"window IS {window.is_start:%Y-%m-%d}..{window.oos_start:%Y-%m-%d}, OOS ..{window.replay_start:%Y-%m-%d}; "
          + "; ".join(notes))
    print("bars per series: " + ", ".join(f"{tf} {bars_needed(tf, window, bt.warmup_bars):,}" for tf in TFS))
    small = {"4h": by_tf["4h"][:3]}
    first_backtest(candles, backtest_plan(bt, window, small, "warm"), be.STRATEGY, 27)  # numba warm-up
    be.reset_peak_rss()
    r = first_backtest(candles, relaxed(backtest_plan(bt, window, by_tf, "bench")), be.STRATEGY)
    peak = be.vm_hwm_mb() + r["worker_mb"]
    out = r["out"]
    stages = "search+OOS" + ("+WFA" if out.wfa else "") + ("+shuffle" if out.shuffle else "")
    print(f"first_backtest_s={r['s']:.2f} ({r['sets']:,} sets, 4 TF x {COINS} series, stages {stages}, "
          f"chosen {out.best.timeframe if out.best else '-'}; {r['sims']:,} simulations = "
          f"{r['sims'] / r['s']:,.0f} sims/s; load {os.getloadavg()[0]:.1f})")
    print(f"peak_mb={peak:.0f} (process {be.vm_hwm_mb():.0f} + sandbox worker {r['worker_mb']:.0f})")
    retest = fresh = float("nan")
    if out.best is not None:
        plan = relaxed(backtest_plan(bt, window, by_tf, "bench"))
        ends = [time.perf_counter()]
        with StrategySandbox() as box:
            for _ in range(2):  # the first in a new sandbox (its boot included), the second in it running
                spec = box.load(be.STRATEGY)
                run_retest(box, candles, plan, out.best.timeframe, out.best.params, spec.direction.sign)
                ends.append(time.perf_counter())
        fresh, retest = ends[1] - ends[0], ends[2] - ends[1]
    print(f"retest_fresh_sandbox_s={fresh:.2f} (a new sandbox: its boot + load + re-test, "
          f"{out.best.timeframe if out.best else '-'}, 30 series)")
    print(f"retest_s={retest:.2f} (load + re-test in a running sandbox, as the backtester role runs every "
          "re-test in the one sandbox it keeps)")
    if not args.no_table:
        table(candles, by_tf, bt, window)
    v = validate_ms(args.validate) if args.validate > 0 else float("nan")
    print(f"validate_ms={v:.0f} (median sandbox overhead per strategy, {args.validate} generated; "
          f"load {os.getloadavg()[0]:.1f})")
    print(f"scale: first_backtest_s={r['s']:.2f} peak_mb={peak:.0f} retest_s={retest:.2f} validate_ms={v:.0f}")


if __name__ == "__main__":
    main()
