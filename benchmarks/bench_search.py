"""Benchmark: wall time of a first backtest against the size of the searched parameter grid.

Run: ``.venv/bin/python benchmarks/bench_search.py [--sizes 64,256,1000] [--method halving]
[--coins 30] [--timeframes 15m,30m,1h,4h] [--open-gates] [--direction long]`` (a few minutes on
2 cores). Prints one line per size and asserts nothing about time.

The strategy is one fixed hand-written SMA crossover with an RSI filter whose grid has 1,296
sets (fast 6 x slow 6 x rsi level 3 x sl 3 x tp 4); each size is a seeded sample of it
(:func:`~sixbtc.app.backtest_plan.sample_params`), so the sizes differ only in how many sets the
search sees. ``--method optuna`` instead lets TPE propose ``size`` sets of the whole grid
(``backtest.optuna_trials``). Data, windows and coins are those of ``bench_protocol.py`` (the
default ``run --once`` windows on ``../shared/data/binance_usdm``). One throw-away run first
compiles the numba kernels. With the default gates most strategies stop at the degradation
gate; ``--open-gates`` makes every run go through the search, OOS, walk-forward, causality
check and shuffle test (the full cost).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from bench_protocol import DATA, ParquetFiles, default_window, symbols

from sixbtc.app.backtest_plan import backtest_plan, sample_params, search_space
from sixbtc.backtester.protocol import run_backtest
from sixbtc.config import Settings
from sixbtc.strategy.sandbox import StrategySandbox

CODE = '''
import numpy as np
from sixbtc.strategy import indicators as ind


class Strategy_TRN_bench001:
    """SMA crossover with an RSI filter (benchmark strategy)."""

    strategy_type = "TRN"
    direction = "DIRECTION"
    timeframes = ("15m", "30m", "1h", "4h")
    param_space = {
        "fast_n": [5, 8, 10, 15, 20, 30],
        "slow_n": [40, 60, 80, 100, 150, 200],
        "rsi_level": [40, 50, 60],
        "sl_pct": [0.01, 0.02, 0.03],
        "tp_pct": [0.02, 0.03, 0.04, 0.06],
    }

    def signals(self, data, params):
        close = data["close"]
        fast = ind.sma(close, params["fast_n"])
        slow = ind.sma(close, params["slow_n"])
        rsi = ind.rsi(close, 14)
        if self.direction == "long":
            entries = ind.cross_above(fast, slow) & (rsi > params["rsi_level"])
            exits = ind.cross_below(fast, slow)
        else:
            entries = ind.cross_below(fast, slow) & (rsi < 100 - params["rsi_level"])
            exits = ind.cross_above(fast, slow)
        return np.asarray(entries, dtype=bool), np.asarray(exits, dtype=bool)
'''


def _args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="64,256,1000")
    ap.add_argument("--method", choices=("halving", "optuna"), default="halving")
    ap.add_argument("--coins", type=int, default=30)
    ap.add_argument("--timeframes", default="15m,30m,1h,4h")
    ap.add_argument("--direction", choices=("long", "short"), default="long")
    ap.add_argument("--is-days", type=int, default=120)
    ap.add_argument("--open-gates", action="store_true")
    return ap.parse_args(argv)


def _settings(args: argparse.Namespace, size: int) -> Settings:
    bt: dict[str, Any] = {"timeframes": args.timeframes.split(","), "search_method": args.method,
                          "is_days": args.is_days}
    if args.method == "optuna":
        bt.update(max_param_sets=min(size, 1000), optuna_trials=size)
    else:
        bt.update(max_param_sets=size)
    if args.open_gates:
        bt.update(max_degradation=1.0, wfa_min_consistency=0.0, shuffle_max_pvalue=1.0, min_trades=1)
    return Settings.model_validate({"backtest": bt})


def time_one(box: StrategySandbox, code: str, files: ParquetFiles, settings: Settings,
             by_tf: dict[str, list[str]]) -> dict[str, Any]:
    """One first backtest of ``code``: seconds, sets searched and chosen IS Sharpe per timeframe,
    trials, verdict."""
    spec = box.load(code)
    window = default_window(files, settings)
    plan = backtest_plan(settings.backtest, window, by_tf, "bench")
    params = sample_params(spec.grid(), settings.backtest.max_param_sets, "bench")
    space = search_space(spec, settings.backtest)
    t0 = time.perf_counter()
    out = run_backtest(box, files, plan, params, spec.direction.sign, space=space)
    return {"s": time.perf_counter() - t0, "sets": [r.n_sets for r in out.runs], "trials": out.trials,
            "reason": out.reason or "passed", "tf": out.best.timeframe if out.best else None,
            "is_sharpe": [round(r.is_sharpe, 2) for r in out.runs]}


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    if not DATA.is_dir():
        print(f"real data not found at {DATA}", file=sys.stderr)
        return 1
    files = ParquetFiles(DATA)
    tfs = args.timeframes.split(",")
    by_tf = symbols(tfs, args.coins)
    code = CODE.replace("DIRECTION", args.direction)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"method {args.method}; coins/tf {args.coins}; timeframes {tfs}; is_days {args.is_days}; "
          f"gates {'open' if args.open_gates else 'default'}; direction {args.direction}")
    with StrategySandbox() as box:
        time_one(box, code, files, _settings(args, sizes[0]), {tfs[-1]: by_tf[tfs[-1]][:2]})  # compile
        for size in sizes:
            r = time_one(box, code, files, _settings(args, size), by_tf)
            print(f"size={size} first_s={r['s']:.2f} sets_per_tf={r['sets']} trials={r['trials']} "
                  f"is_sharpe_per_tf={r['is_sharpe']} verdict={r['reason']} tf={r['tf']}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
