"""Benchmark: wall time of a first backtest vs a re-test of the same strategy, on real data.

Run: ``.venv/bin/python benchmarks/bench_protocol.py [--strategies 4] [--coins 10]
[--timeframes 1h,4h] [--max-param-sets 1000] [--max-grid 64] [--search-rungs 3] [--open-gates]`` (about 1-3 minutes on 2 cores). Prints figures;
asserts nothing about time.

Generated strategies (the built-in generator, seeded) are loaded in a real
:class:`~sixbtc.strategy.sandbox.StrategySandbox`; candles come straight from
``../shared/data/binance_usdm/{SYMBOL}_{tf}.parquet``. The windows are those of
``run --once`` with the default settings: the last ``executor.replay_days`` held out, OOS
``oos_days`` before that, IS ``is_days`` before that. The first backtest is
:func:`~sixbtc.backtester.protocol.run_backtest` (successive-halving search over the sampled
grid, OOS, walk-forward, shuffle test when reached); the re-test is
:func:`~sixbtc.backtester.protocol.run_retest` of the chosen timeframe and parameters on the
same window. One throw-away run first compiles the numba kernels. Each row also gives the
in-backtest causality check's cost (extra signal calls and seconds, first backtest and
re-test; "not reached" when an earlier gate stopped the strategy). With the default gates
most generated strategies stop at the degradation gate (before WFA and shuffle);
``--open-gates`` makes both runs go through every stage (the full cost).

Other scripts can call :func:`time_first_vs_retest` directly.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sixbtc.app.factory_roles import backtest_plan, sample_params
from sixbtc.app.window import CycleWindow
from sixbtc.backtester.protocol import run_backtest, run_retest
from sixbtc.config import Settings
from sixbtc.core.errors import StrategyRejected
from sixbtc.generator.factory import generate
from sixbtc.strategy.sandbox import StrategySandbox

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "binance_usdm"
PREFERRED = ("BTC", "ETH", "SOL", "XRP", "DOGE", "BNB", "ADA", "LTC", "BCH", "AVAX", "LINK", "DOT", "TRX", "SUI")


class ParquetFiles:
    """CandleSource over ``{SYMBOL}_{tf}.parquet`` / ``{SYMBOL}_funding.parquet`` files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[str, pd.DataFrame] = {}

    def _frame(self, name: str) -> pd.DataFrame:
        if name not in self._cache:
            path = self.root / f"{name}.parquet"
            self._cache[name] = pd.read_parquet(path) if path.exists() else pd.DataFrame({"timestamp": []})
        return self._cache[name]

    @staticmethod
    def _slice(df: pd.DataFrame, start: Any, end: Any) -> pd.DataFrame:
        ts = df["timestamp"]
        keep = np.ones(len(df), dtype=bool)
        if start is not None:
            keep &= (ts >= start).to_numpy()
        if end is not None:
            keep &= (ts < end).to_numpy()
        return df[keep].reset_index(drop=True)

    def read_candles(self, symbol: str, timeframe: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        return self._slice(self._frame(f"{symbol}_{timeframe}"), start, end)

    def read_funding(self, symbol: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        df = self._frame(f"{symbol}_funding")
        return self._slice(df, start, end) if len(df) else pd.DataFrame({"timestamp": [], "rate": []})


def default_window(files: ParquetFiles, settings: Settings) -> CycleWindow:
    """The ``run --once`` windows ending at BTC's newest 1h candle."""
    end = pd.Timestamp(files.read_candles("BTC", "1h")["timestamp"].iloc[-1]) + pd.Timedelta(hours=1)
    replay = end - pd.Timedelta(days=settings.executor.replay_days)
    oos = replay - pd.Timedelta(days=settings.backtest.oos_days)
    return CycleWindow(oos - pd.Timedelta(days=settings.backtest.is_days), oos, replay, end)


def symbols(timeframes: list[str], n: int) -> dict[str, list[str]]:
    """Up to ``n`` coins per timeframe that have a file, preferred (liquid) coins first."""
    have = sorted({p.name.split("_")[0] for p in DATA.glob("*_1h.parquet")})
    order = [s for s in PREFERRED if s in have] + [s for s in have if s not in PREFERRED]
    return {tf: [s for s in order if (DATA / f"{s}_{tf}.parquet").exists()][:n] for tf in timeframes}


def time_first_vs_retest(code: str, code_hash: str, files: ParquetFiles, settings: Settings,
                         window: CycleWindow, symbols_by_tf: dict[str, list[str]]) -> dict[str, Any]:
    """Time one first backtest and (when it chose parameters) one re-test of the same strategy.

    Returns
    -------
    dict
        ``first_s``, ``retest_s`` (None when the first backtest chose nothing), ``ratio``,
        ``trials``, ``reason``, ``timeframe``, ``n_params``.

    Raises
    ------
    StrategyRejected
        If the sandbox refuses the strategy.
    """
    with StrategySandbox() as box:
        spec = box.load(code)
        wanted = {tf: s for tf, s in symbols_by_tf.items() if tf in spec.timeframes}
        plan = backtest_plan(settings.backtest, window, wanted, code_hash)
        params = sample_params(spec.grid(), settings.backtest.max_param_sets, code_hash)
        t0 = time.perf_counter()
        out = run_backtest(box, files, plan, params, spec.direction.sign)
        first = time.perf_counter() - t0
        retest, again = None, None
        if out.best is not None:
            t0 = time.perf_counter()
            again = run_retest(box, files, plan, out.best.timeframe, out.best.params, spec.direction.sign)
            retest = time.perf_counter() - t0
    checks = [o.causality for o in (out, again) if o is not None and o.causality is not None]
    return {"first_s": first, "retest_s": retest, "ratio": first / retest if retest else None, "trials": out.trials,
            "reason": out.reason or "passed", "timeframe": out.best.timeframe if out.best else None,
            "n_params": len(params), "causality": [(c.calls, c.seconds) for c in checks]}


def _args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strategies", type=int, default=4)
    ap.add_argument("--coins", type=int, default=10)
    ap.add_argument("--timeframes", default="1h,4h")
    ap.add_argument("--max-param-sets", type=int, default=1000)
    ap.add_argument("--max-grid", type=int, default=64, help="largest grid a generated strategy may declare")
    ap.add_argument("--search-rungs", type=int, default=3, help="1 = exhaustive grid on every coin")
    ap.add_argument("--open-gates", action="store_true",
                    help="open every gate so both runs go through all stages (WFA, shuffle)")
    ap.add_argument("--seed", type=int, default=11)
    return ap.parse_args(argv)


def _settings(args: argparse.Namespace, tfs: list[str]) -> Settings:
    bt: dict[str, Any] = {"timeframes": tfs, "max_param_sets": args.max_param_sets, "search_rungs": args.search_rungs}
    if args.open_gates:
        bt.update(max_degradation=1.0, wfa_min_consistency=0.0, shuffle_max_pvalue=1.0, min_trades=1)
    return Settings.model_validate({"backtest": bt})


def _print_row(name: str, r: dict[str, Any]) -> None:
    retest = f"{r['retest_s']:.3f} s" if r["retest_s"] else "-"
    ratio = f"{r['ratio']:.1f}x" if r["ratio"] else "-"
    causal = ", ".join(f"{n} calls {t:.3f} s" for n, t in r["causality"]) or "not reached"
    print(f"{name}: sets {r['n_params']}, first {r['first_s']:.2f} s ({r['trials']} trials, {r['reason']}, "
          f"{r['timeframe']}), retest {retest}, ratio {ratio}; causality check (first, retest): {causal}")


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    if not DATA.is_dir():
        print(f"real data not found at {DATA}", file=sys.stderr)
        return 1
    tfs = args.timeframes.split(",")
    settings = _settings(args, tfs)
    files = ParquetFiles(DATA)
    window = default_window(files, settings)
    by_tf = symbols(tfs, args.coins)
    cands = generate(args.strategies + 1, np.random.default_rng(args.seed), existing_hashes=set(),
                     sources=("template", "unger"), max_grid=args.max_grid, timeframes=tuple(tfs))
    print(f"window IS {window.is_start:%Y-%m-%d} OOS {window.oos_start:%Y-%m-%d}..{window.replay_start:%Y-%m-%d}; "
          f"coins/tf {args.coins}; timeframes {tfs}; max_param_sets {args.max_param_sets}; "
          f"search rungs {args.search_rungs}; gates {'open' if args.open_gates else 'default'}")
    rows = []
    for i, cand in enumerate(cands.candidates):
        try:
            r = time_first_vs_retest(cand.code, cand.code_hash, files, settings, window, by_tf)
        except StrategyRejected as exc:
            print(f"{cand.name}: rejected by the sandbox ({exc.reason})")
            continue
        if i == 0:
            print(f"warm-up (numba compile) {cand.name}: first {r['first_s']:.2f} s")
            continue
        rows.append(r)
        _print_row(cand.name, r)
    ratios = [r["ratio"] for r in rows if r["ratio"]]
    if ratios:
        print(f"median_first_s={np.median([r['first_s'] for r in rows]):.2f} "
              f"median_retest_s={np.median([r['retest_s'] for r in rows if r['retest_s']]):.3f} "
              f"median_ratio={np.median(ratios):.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
