"""Benchmark: SixBTC's signal path + numba engine against vectorbt, and the protocol's cost.

Run: ``.venv/bin/python benchmarks/bench_engine.py [--repeats 3] [--sixbtc-repeats 10]
[--skip-protocol | --protocol-only]`` (about 1 minute on 2 idle cores, up to 3 on a busy
machine). Prints figures; asserts nothing about time. See ``benchmarks/README.md`` for what each line means.

Section 1 (engine, one process, one run). The last 20,000 bars of
``../shared/data/binance_usdm/BTC_1h.parquet``; an SMA-crossover strategy (long; entry when
SMA(fast) crosses above SMA(slow), exit when it crosses below) with a 2 % stop and a 4 %
target, 1,000 (fast, slow) parameter sets (40 fast x 25 slow windows), fee 0.045 % per side,
slippage 2 bps; end to end = signals, simulation, metrics (total return, Sharpe, max drawdown,
win rate, trades) for every set.

* SixBTC: :mod:`sixbtc.strategy.indicators` with a fresh
  :class:`~sixbtc.strategy.indicator_cache.IndicatorCache` per run (each SMA window computed
  once) -> bool ``(n_bars, 1000)`` -> :func:`sixbtc.backtester.run_grid` (metrics included).
* vectorbt: ``vbt.MA.run`` on the product grid (``run_unique=True``: 65 windows computed),
  ``ma_crossed_above/below``, ``Portfolio.from_signals`` with ``sl_stop``, ``tp_stop``, fees,
  slippage, open/high/low for the stops, ``freq='1h'``, then the same five metrics. Signals are
  shifted one bar and filled at ``price=open`` to match SixBTC's next-bar-open fills.

Each side: one warm-up run (numba compilation, timed and printed separately), then the best
of ``--sixbtc-repeats`` / ``--repeats`` runs (best-of damps the noise of a shared machine).
Peak RSS per side comes from ``VmHWM`` (reset between the sides via ``/proc/self/clear_refs``).
The last line is exactly ``speedup_vs_vectorbt=<ratio>``.

Section 2 (protocol, in a child process so that its peak memory is its own): one first
backtest of one SMA-crossover strategy with 1,000 parameter sets at the default settings
(successive-halving search, OOS, walk-forward, shuffle test; verdict gates relaxed so that
every stage runs) and one re-test, through the real path
(:class:`~sixbtc.strategy.sandbox.StrategySandbox` + ``run_backtest`` / ``run_retest``) on
what the data store holds, plus an extrapolation to 4 timeframes x 30 coins x 1,000 sets.
Skipped with a message if the protocol API it needs is missing.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sixbtc.backtester import run_grid
from sixbtc.strategy import indicator_cache
from sixbtc.strategy import indicators as ind

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "binance_usdm"
N_BARS = 20_000
FAST = list(range(5, 45))  # 40 windows
SLOW = list(range(50, 300, 10))  # 25 windows
SETS = list(itertools.product(FAST, SLOW))  # 1,000 (fast, slow) sets
SL, TP, FEE, SLIP_BPS = 0.02, 0.04, 0.00045, 2.0
METRICS = ("total_return", "sharpe", "max_drawdown", "win_rate", "n_trades")


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (MiB; Linux ``ru_maxrss`` is KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter (``/proc/self/clear_refs`` 5); False if refused."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def vm_hwm_mb(pid: int | str = "self") -> float:
    """``VmHWM`` of ``/proc/<pid>/status`` (MiB): the peak RSS since start or the last reset."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan")
    for line in text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load_bars() -> pd.DataFrame:
    """The last ``N_BARS`` 1h candles of BTC (exit with a message when the data is absent)."""
    path = DATA / "BTC_1h.parquet"
    if not path.exists():
        sys.exit(f"data not found: {path} (expected ../shared/data next to the repository)")
    df = pd.read_parquet(path).iloc[-N_BARS:].reset_index(drop=True)
    return df


CPU_S: dict[str, float] = {}  # best process CPU time (all threads) per timed label


def timed(fn, repeats: int, label: str = ""):
    """``(first_s, best_s, result)``: one warm-up call, then the best wall time of ``repeats``
    calls; the best process CPU time (s, all threads) is kept in ``CPU_S[label]``."""
    t0 = time.perf_counter()
    result = fn()
    first = time.perf_counter() - t0
    best, best_cpu = float("inf"), float("inf")
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    CPU_S[label] = best_cpu
    return first, best, result


# ----------------------------------------------------------------------------- SixBTC side
def sixbtc_signals(data: dict[str, np.ndarray], sets, cache: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Entries/exits bool ``(n_bars, n_sets)`` of the SMA crossover, with a fresh cache (or none):
    Fortran-ordered views of the ``(n_sets, n_bars)`` rows the loop fills (no transpose copy;
    the engine reads that layout as it is)."""
    if cache:
        indicator_cache.activate(indicator_cache.IndicatorCache(256 << 20))
        indicator_cache.active().set_dataset(data)
    try:
        close = data["close"]
        entries = np.empty((len(sets), close.shape[0]), dtype=bool)
        exits = np.empty_like(entries)
        for k, (fast, slow) in enumerate(sets):
            f, s = ind.sma(close, fast), ind.sma(close, slow)
            entries[k] = ind.cross_above(f, s)
            exits[k] = ind.cross_below(f, s)
    finally:
        indicator_cache.deactivate()
    return entries.T, exits.T


def sixbtc_run(data: dict[str, np.ndarray], sets=SETS) -> dict[str, np.ndarray]:
    """End to end on SixBTC: signals -> ``run_grid`` -> metrics ``(n_sets,)`` each."""
    entries, exits = sixbtc_signals(data, sets)
    res = run_grid(data["open"], data["high"], data["low"], data["close"], entries, exits,
                   SL, TP, direction=1, fee_rate=FEE, slippage_bps=SLIP_BPS, init_cash=10_000.0,
                   bars_per_year=8760.0)
    return {m: getattr(res, m) for m in METRICS}


def sandbox_signals(data: dict[str, np.ndarray], repeats: int) -> float | None:
    """Best wall time of the 1,000 sets' signals through the real path (a sandbox worker)."""
    try:
        from sixbtc.strategy.sandbox import StrategySandbox
    except ImportError as exc:
        print(f"sandbox signals skipped: {exc}")
        return None
    params = [{"fast": f, "slow": s, "sl_pct": SL, "tp_pct": TP} for f, s in SETS]
    worker_code_path(data, params, repeats)
    with StrategySandbox() as box:
        box.load(STRATEGY)
        return timed(lambda: box.signals(data, params), repeats)[1]


def worker_code_path(data: dict[str, np.ndarray], params: list[dict], repeats: int) -> None:
    """Print the per-set cost of the worker's own signal loop (in this process, no pipe),
    without and with the indicator cache (a fresh cache per call: each SMA computed once)."""
    from sixbtc.strategy.sandbox_worker import Worker, read_only_data

    worker = Worker(STRATEGY)
    ro = read_only_data(data)  # (activates a cache: switched off for the first timing)
    indicator_cache.deactivate()
    plain = timed(lambda: worker.signals(ro, params), repeats)[1]

    def with_cache():
        indicator_cache.activate(indicator_cache.IndicatorCache(256 << 20))
        indicator_cache.active().set_dataset(ro)
        try:
            return worker.signals(ro, params)
        finally:
            indicator_cache.deactivate()

    cached = timed(with_cache, repeats)[1]
    print(f"worker_signals_us_per_set without_cache={plain / len(params) * 1e6:.1f} "
          f"with_cache={cached / len(params) * 1e6:.1f}  (sandbox_worker.Worker.signals in-process, "
          f"best of {repeats})")


# ----------------------------------------------------------------------------- vectorbt side
def vbt_run(df: pd.DataFrame, sets=SETS) -> dict[str, np.ndarray]:
    """End to end on vectorbt (idiomatic API): MA -> crosses -> from_signals -> metrics."""
    import vectorbt as vbt

    bars = df.set_index("timestamp")
    close = bars["close"]
    fast_w, slow_w = [f for f, _ in sets], [s for _, s in sets]
    fast_ma = vbt.MA.run(close, fast_w, short_name="fast", run_unique=True)
    slow_ma = vbt.MA.run(close, slow_w, short_name="slow", run_unique=True)
    entries = fast_ma.ma_crossed_above(slow_ma)
    exits = fast_ma.ma_crossed_below(slow_ma)
    pf = vbt.Portfolio.from_signals(
        close, entries.vbt.fshift(1, fill_value=False), exits.vbt.fshift(1, fill_value=False),
        price=bars["open"], open=bars["open"], high=bars["high"], low=bars["low"],
        sl_stop=SL, tp_stop=TP, stop_entry_price="fillprice", fees=FEE,
        slippage=SLIP_BPS * 1e-4, init_cash=10_000.0, freq="1h")
    trades = pf.trades
    return {"total_return": pf.total_return().to_numpy(), "sharpe": pf.sharpe_ratio().to_numpy(),
            "max_drawdown": pf.max_drawdown().to_numpy(), "win_rate": trades.win_rate().to_numpy(),
            "n_trades": trades.count().to_numpy()}


def compare(sx: dict[str, np.ndarray], vb: dict[str, np.ndarray], picks=(0, 333, 666, 999)) -> None:
    """Print trade counts and total returns of a few sets on both sides, and a summary."""
    print("  agreement check (conventions differ: vectorbt checks a stop from the bar after")
    print("  entry, SixBTC on the entry bar too; vectorbt fills signals shifted 1 bar at the open):")
    for j in picks:
        fast, slow = SETS[j]
        print(f"    set {j:4d} (fast={fast:2d}, slow={slow:3d}): trades sixbtc={int(sx['n_trades'][j]):4d} "
              f"vectorbt={int(vb['n_trades'][j]):4d}; total_return sixbtc={sx['total_return'][j]:+.3f} "
              f"vectorbt={vb['total_return'][j]:+.3f}")
    n_sx, n_vb = sx["n_trades"].astype(float), vb["n_trades"].astype(float)
    rel = np.abs(n_sx - n_vb) / np.maximum(n_vb, 1.0)
    corr = np.corrcoef(sx["total_return"], vb["total_return"])[0, 1]
    print(f"    all 1,000 sets: median |trades diff| {np.median(rel):.1%}, max {rel.max():.1%}; "
          f"corr(total_return) {corr:.3f}")


def sixbtc_split(data: dict[str, np.ndarray], repeats: int) -> None:
    """Print where SixBTC's time goes: signals without/with the cache, ``run_grid``, sandbox."""
    n = len(data["close"])
    t0 = time.perf_counter()
    sixbtc_signals(data, SETS, cache=False)
    t_nocache = time.perf_counter() - t0
    t0 = time.perf_counter()
    entries, exits = sixbtc_signals(data, SETS)
    t_sig = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_grid(data["open"], data["high"], data["low"], data["close"], entries, exits, SL, TP,
             direction=1, fee_rate=FEE, slippage_bps=SLIP_BPS)
    t_grid = time.perf_counter() - t0
    print(f"  split (one run each): signals {t_sig:.4f} s = {t_sig / len(SETS) * 1e6:.1f} us/set, "
          f"run_grid {t_grid:.4f} s = {t_grid / (n * len(SETS)) * 1e9:.2f} ns/bar-set")
    print(f"sixbtc_signals_without_cache_s={t_nocache:.4f}  ({t_nocache / len(SETS) * 1e6:.1f} us/set; "
          f"with the cache {t_sig / len(SETS) * 1e6:.1f} us/set; no transpose: F-ordered views)")
    t_box = sandbox_signals(data, repeats)
    if t_box is not None:
        print(f"sixbtc_sandbox_signals_s={t_box:.4f}  (same 1,000 sets as strategy source in StrategySandbox, "
              f"best of {repeats}: {t_box / len(SETS) * 1e6:.1f} us/set incl. pipe and bit-packing)")


def engine_section(repeats: int, sixbtc_repeats: int) -> float:
    """Section 1; returns the speed-up (vectorbt best time / SixBTC best time)."""
    df = load_bars()
    data = {k: df[k].to_numpy(np.float64) for k in ("open", "high", "low", "close", "volume")}
    n = len(df)
    print(f"== engine: BTC 1h, last {n:,} bars ({df['timestamp'].iloc[0]:%Y-%m-%d} .. "
          f"{df['timestamp'].iloc[-1]:%Y-%m-%d}), {len(SETS):,} (fast, slow) sets, "
          f"sl {SL:.0%} tp {TP:.0%}, fee {FEE:.3%}/side, slippage {SLIP_BPS:g} bps")
    rss0 = peak_rss_mb()
    sx_first, sx_best, sx = timed(lambda: sixbtc_run(data), sixbtc_repeats, "sixbtc")
    sx_rss = peak_rss_mb() if not reset_peak_rss() else vm_hwm_mb()
    print(f"sixbtc_first_run_s={sx_first:.3f}  (includes numba compile/cache load)")
    print(f"sixbtc_wall_s={sx_best:.4f}  (best of {sixbtc_repeats})")
    sixbtc_split(data, repeats)
    reset_peak_rss()
    vb_first, vb_best, vb = timed(lambda: vbt_run(df), repeats, "vectorbt")
    vb_rss = vm_hwm_mb()
    print(f"vectorbt_first_run_s={vb_first:.3f}  (includes numba compile)")
    print(f"vectorbt_wall_s={vb_best:.4f}  (best of {repeats})")
    print(f"peak_rss_mb sixbtc={sx_rss:.0f} vectorbt={vb_rss:.0f} (process before: {rss0:.0f}; "
          f"vectorbt {(vb_rss - sx_rss) * 2**20 / (n * len(SETS)):.0f} B/bar-set over sixbtc)")
    print(f"cpu_s sixbtc={CPU_S['sixbtc']:.4f} vectorbt={CPU_S['vectorbt']:.4f} (best process CPU time, all "
          f"threads; less sensitive to other load than wall time: cpu ratio "
          f"{CPU_S['vectorbt'] / CPU_S['sixbtc']:.1f})")
    compare(sx, vb)
    return vb_best / sx_best


# ----------------------------------------------------------------------------- protocol section
STRATEGY = """
from sixbtc.strategy import indicators as ind


class Strategy_TRN_be0c4001:
    strategy_type = "TRN"
    direction = "long"
    timeframes = ("15m", "30m", "1h", "4h")
    param_space = {
        "fast": [5, 8, 10, 12, 15, 20, 25, 30, 35, 40],
        "slow": [50, 60, 80, 100, 120, 150, 180, 200, 220, 240],
        "sl_pct": [0.01, 0.015, 0.02, 0.03, 0.05],
        "tp_pct": [0.02, 0.04],
    }

    def signals(self, data, params):
        close = data["close"]
        fast = ind.sma(close, params["fast"])
        slow = ind.sma(close, params["slow"])
        return ind.cross_above(fast, slow), ind.cross_below(fast, slow)
"""
FULL_TFS, FULL_COINS = ("15m", "30m", "1h", "4h"), 30


class TimedSignals:
    """Delegates to a sandbox and adds up the wall time and parameter sets of its calls."""

    def __init__(self, box) -> None:
        self.box, self.seconds, self.sets, self.calls = box, 0.0, 0, 0

    def signals(self, data, params_list):
        t0 = time.perf_counter()
        out = self.box.signals(data, params_list)
        self.seconds += time.perf_counter() - t0
        self.sets, self.calls = self.sets + len(params_list), self.calls + 1
        return out


def covered(files, tf: str, symbols: list[str], window, warmup: int) -> tuple[list[str], int]:
    """Symbols whose ``tf`` candles cover warm-up + IS + OOS, and the bars one coin needs."""
    from sixbtc.domain.timeframe import Timeframe

    step = pd.Timedelta(milliseconds=Timeframe.parse(tf).ms)
    need_from, need_to = window.is_start - warmup * step, window.replay_start - step
    out = []
    for sym in symbols:
        ts = files.read_candles(sym, tf)["timestamp"]
        if len(ts) and ts.iloc[0] <= need_from and ts.iloc[-1] >= need_to:
            out.append(sym)
    return out, int((window.replay_start - window.is_start) / step) + warmup


def protocol_section() -> None:
    """Section 2: a first backtest and a re-test at the default protocol, 1,000 sets."""
    try:
        import bench_protocol as bp

        from sixbtc.app.factory_roles import backtest_plan
        from sixbtc.backtester.protocol import run_backtest, run_retest
        from sixbtc.config import Settings
        from sixbtc.strategy.sandbox import StrategySandbox

        for name in ("ParquetFiles", "default_window", "symbols"):
            getattr(bp, name)
    except (ImportError, AttributeError) as exc:
        print(f"== protocol: skipped ({exc})")
        return
    settings = Settings.model_validate({"backtest": {"max_param_sets": 1000}})
    bt = settings.backtest
    files = bp.ParquetFiles(DATA)
    window = bp.default_window(files, settings)
    candidates = bp.symbols(list(FULL_TFS), FULL_COINS)
    by_tf, bars = {}, {}
    for tf in FULL_TFS:
        by_tf[tf], bars[tf] = covered(files, tf, candidates.get(tf, []), window, bt.warmup_bars)
    by_tf = {tf: s for tf, s in by_tf.items() if s}
    print(f"== protocol: window IS {window.is_start:%Y-%m-%d}..{window.oos_start:%Y-%m-%d}, OOS "
          f"..{window.replay_start:%Y-%m-%d}; search rungs {bt.search_rungs} eta {bt.search_eta} screen {bt.screen_coins} coins; "
          f"WFA {bt.wfa_windows} folds; shuffle {bt.shuffle_permutations} permutations x {bt.shuffle_coins} coins")
    print("   ran: " + ", ".join(f"{tf} {len(s)} coins x {bars[tf]:,} bars" for tf, s in by_tf.items()))
    with StrategySandbox() as box:  # warm-up: compiles the kernels the protocol uses
        spec = box.load(STRATEGY)
        params = spec.grid()
        t0 = time.perf_counter()
        tf0 = "4h" if "4h" in by_tf else next(iter(by_tf))
        small = {tf0: by_tf[tf0][:3]}
        run_backtest(box, files, backtest_plan(bt, window, small, "warm"), params[:27], spec.direction.sign)
    print(f"protocol_warmup_s={time.perf_counter() - t0:.2f}  (numba compile of the protocol kernels, 3 coins)")
    _first_and_retest(bp, backtest_plan, run_backtest, run_retest, StrategySandbox, files, window, by_tf, bars, bt)


def _first_and_retest(bp, backtest_plan, run_backtest, run_retest, sandbox_cls, files, window, by_tf, bars,
                      bt) -> None:
    """Time the first backtest and the re-test; print memory and the extrapolation."""
    reset_peak_rss()
    # Gates relaxed (verdicts only) so that every stage runs: search, OOS, WFA and shuffle.
    plan = backtest_plan(bt, window, by_tf, "bench")
    try:
        plan = dataclasses.replace(plan, max_degradation=float("inf"), min_excess_return=-float("inf"),
                                   wfa_min_consistency=0.0, shuffle_max_pvalue=1.0)
    except TypeError as exc:
        print(f"   (gates not relaxed: {exc}; later stages run only if the strategy passes)")
    t0 = time.perf_counter()
    with sandbox_cls() as box:
        spec = box.load(STRATEGY)
        params = spec.grid()
        timed_box = TimedSignals(box)
        out = run_backtest(timed_box, files, plan, params, spec.direction.sign)
        worker_mb = vm_hwm_mb(box.worker_pid) if box.worker_pid else float("nan")
    first = time.perf_counter() - t0
    parent_mb = vm_hwm_mb()
    stages = "search+OOS" + ("+WFA" if out.wfa else "") + ("+shuffle" if out.shuffle else "")
    print(f"first_backtest_s={first:.2f}  ({len(params):,} parameter sets, stages run {stages}, verdict "
          f"{out.reason or 'passed'}, chosen {out.best.timeframe if out.best else '-'}, {out.trials:,} trials; "
          f"sandbox signals {timed_box.seconds:.2f} s for {timed_box.sets:,} sets in {timed_box.calls} calls = "
          f"{timed_box.seconds / max(timed_box.sets, 1) * 1e6:.0f} us/set)")
    print(f"first_backtest_peak_mb={parent_mb + worker_mb:.0f}  (peak RSS: backtest process {parent_mb:.0f} + "
          f"sandbox worker {worker_mb:.0f}; indicator cache bound 256 MiB)")
    if out.best is not None:
        t0 = time.perf_counter()
        with sandbox_cls() as box:
            spec = box.load(STRATEGY)
            re = run_retest(box, files, plan, out.best.timeframe, out.best.params, spec.direction.sign)
        print(f"retest_s={time.perf_counter() - t0:.2f}  (fresh sandbox: worker boot + load included; "
              f"{out.best.timeframe}, {len(by_tf[out.best.timeframe])} coins, verdict {re.reason or 'passed'})")
    else:
        print("retest_s=n/a (the first backtest chose no parameters)")
    work_ran = sum(len(s) * bars[tf] for tf, s in by_tf.items())
    work_full = sum(FULL_COINS * bars[tf] for tf in FULL_TFS)
    print(f"EXTRAPOLATION (not run): {len(FULL_TFS)} TF x {FULL_COINS} coins x {len(params):,} sets ~ "
          f"{first * work_full / work_ran:.1f} s (first backtest scaled by coin-bars {work_full:,} / {work_ran:,}; "
          f"linear in coins, an upper bound since the search screens a fixed number of coins)")


def main() -> None:
    """Parse arguments, run the sections, print ``speedup_vs_vectorbt=<ratio>`` last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed vectorbt runs after the warm-up")
    parser.add_argument("--sixbtc-repeats", type=int, default=10, help="timed SixBTC runs after the warm-up")
    parser.add_argument("--skip-protocol", action="store_true", help="only the engine section")
    parser.add_argument("--protocol-only", action="store_true",
                        help="only the protocol section (run in a child process by default)")
    args = parser.parse_args()
    if args.protocol_only:
        protocol_section()
        return
    print(f"machine: {len(os.sched_getaffinity(0))} cores, load average {os.getloadavg()[0]:.1f}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    speedup = engine_section(args.repeats, args.sixbtc_repeats)
    if not args.skip_protocol:  # a fresh process, so that its peak memory is its own
        sys.stdout.flush()
        subprocess.run([sys.executable, __file__, "--protocol-only"], check=False)
    print(f"speedup_vs_vectorbt={speedup:.1f}")


if __name__ == "__main__":
    main()
