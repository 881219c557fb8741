"""Benchmark: the current simulation kernel against the previous one, in the same process.

Run: ``nice -n 5 .venv/bin/python benchmarks/bench_kernel.py [--repeats 7]``. Prints figures;
asserts nothing about time.

Workload: ``bench_engine.py``'s (last 20,000 BTC 1h bars, SMA crossover, 1,000 sets, 2 % stop,
4 % target). The previous kernel is the frozen copy
``tests/unit/backtester/reference_kernel_v1.py`` (commit 6f9115c) wrapped in the same
``prange`` loop as :func:`sixbtc.backtester.kernel.grid_kernel`. The two kernels run
alternately (best of ``--repeats`` each), so both see the same load; the ratio is the figure
to compare between runs on a shared machine. The previous kernel reads ``(n_bars, n_sets)``
C-ordered signals (as the engine passed them then), the current one the set-major
``(n_sets, n_bars)`` transpose of the Fortran-ordered signals ``bench_engine`` builds. Also
timed: one thread (``numba.set_num_threads``); the memory order alone (``layout`` lines: the
previous kernel and ``run_grid`` each given C- and F-ordered signals, alternating); and the
split of one end-to-end ``bench_engine`` run (signals / kernel / result wrapping). The metrics
of both kernels are checked equal (trade counts exactly, Sharpe to 1e-9).

Last line: ``kernel: old_ns=A new_ns=B ratio=R`` (ns per bar x set, 2 threads).
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import sys
import time
from pathlib import Path

import bench_engine as be
import numba
import numpy as np
from numba import njit, prange

from sixbtc.backtester import kernel as K
from sixbtc.backtester import run_grid
from sixbtc.backtester.metrics import GridResult

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "reference_kernel_v1", ROOT / "tests" / "unit" / "backtester" / "reference_kernel_v1.py")
REF = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = REF  # numba's cache pickles the module name
_spec.loader.exec_module(REF)
_ref_simulate = REF.simulate


@njit(parallel=True)
def ref_grid_kernel(open_, high, low, close, entries, exits, sl_pct, tp_pct, direction, fee_rate, slip,
                    funding, max_bars_held, sizing, size_value, leverage, max_notional, init_cash, start, end,
                    bars_per_year):
    """The previous kernel in :func:`sixbtc.backtester.kernel.grid_kernel`'s loop."""
    n_params = sl_pct.shape[0]
    out = np.empty((n_params, K.N_METRICS))
    no_trades = np.empty((0, K.N_TRADE_COLS))
    no_equity = np.empty(0)
    no_days = np.empty(0, dtype=np.int64)
    for p in prange(n_params):
        _ref_simulate(open_, high, low, close, entries, exits, p, sl_pct[p], tp_pct[p], direction, fee_rate, slip,
                      funding, max_bars_held, sizing, size_value, leverage, max_notional, init_cash, start, end,
                      bars_per_year, out[p], False, no_trades, no_equity, no_days, no_equity)
    return out


def kernel_args(data: dict[str, np.ndarray], entries: np.ndarray, exits: np.ndarray) -> tuple:
    """Positional kernel arguments of the benchmark grid with the given signal arrays."""
    n_sets, n = len(be.SETS), len(data["close"])
    return (data["open"], data["high"], data["low"], data["close"], entries, exits,
            np.full(n_sets, be.SL), np.full(n_sets, be.TP), 1, be.FEE, be.SLIP_BPS * 1e-4, np.empty(0), 0,
            K.SIZE_EQUITY_FRAC, 1.0, 1.0, math.inf, 10_000.0, 0, n, 8760.0)


def layout(data: dict[str, np.ndarray], entries: np.ndarray, exits: np.ndarray, repeats: int) -> None:
    """C vs Fortran order of the ``(n_bars, n_sets)`` signals, alternating, at the default threads.

    ``ref_kernel``: the previous kernel (reads ``entries[i - 1, col]``) compiled for each
    layout, so only the memory order differs (C: a stride of ``n_sets`` bytes per bar; F: one
    set's bars contiguous). ``run_grid``: the public engine given C- or F-ordered arrays (the
    kernel reads the set-major transpose: a view for F, a transposing copy for C).
    """
    c_ent, c_ext = np.ascontiguousarray(entries), np.ascontiguousarray(exits)
    f_ent, f_ext = np.asfortranarray(entries), np.asfortranarray(exits)
    ref_c, ref_f = kernel_args(data, c_ent, c_ext), kernel_args(data, f_ent, f_ext)
    d = data

    def grid(ent, ext):
        return run_grid(d["open"], d["high"], d["low"], d["close"], ent, ext, be.SL, be.TP, direction=1,
                        fee_rate=be.FEE, slippage_bps=be.SLIP_BPS, init_cash=10_000.0, bars_per_year=8760.0)

    fns = {"ref_kernel C": lambda: ref_grid_kernel(*ref_c), "ref_kernel F": lambda: ref_grid_kernel(*ref_f),
           "run_grid C": lambda: grid(c_ent, c_ext), "run_grid F": lambda: grid(f_ent, f_ext)}
    for fn in fns.values():
        fn()  # compile / load each layout's specialisation
    assert np.array_equal(ref_grid_kernel(*ref_c), ref_grid_kernel(*ref_f), equal_nan=True)
    assert np.array_equal(grid(c_ent, c_ext).n_trades, grid(f_ent, f_ext).n_trades)
    best = best_alternating(fns, repeats)
    cells = entries.size
    for what in ("ref_kernel", "run_grid"):
        c, f = best[f"{what} C"], best[f"{what} F"]
        print(f"layout {what}: C {c * 1e3:.1f} ms ({c / cells * 1e9:.2f} ns/bar-set), F {f * 1e3:.1f} ms "
              f"({f / cells * 1e9:.2f} ns/bar-set), F/C {f / c:.2f}; load {os.getloadavg()[0]:.2f}")


def best_alternating(fns: dict, repeats: int) -> dict[str, float]:
    """Best wall time (s) of each function, called in turn ``repeats`` times."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def split(data: dict[str, np.ndarray], args: tuple, repeats: int) -> None:
    """Where one end-to-end run goes: signals (with the transpose), kernel, result wrapping."""
    t_sig = min(_timed(lambda: be.sixbtc_signals(data, be.SETS)) for _ in range(repeats))
    t_ker = min(_timed(lambda: K.grid_kernel(*args)) for _ in range(repeats))
    out = K.grid_kernel(*args)
    t_wrap = min(_timed(lambda: GridResult.from_kernel(out)) for _ in range(repeats))
    total = t_sig + t_ker + t_wrap
    print(f"split (best of {repeats} each): signals {t_sig * 1e3:.1f} ms ({t_sig / total:.0%}, "
          f"{t_sig / len(be.SETS) * 1e6:.1f} us/set), kernel {t_ker * 1e3:.1f} ms ({t_ker / total:.0%}), "
          f"result wrapping {t_wrap * 1e3:.2f} ms ({t_wrap / total:.0%})")


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    args_ns = ap.parse_args()
    df = be.load_bars()
    data = {k: df[k].to_numpy(np.float64) for k in ("open", "high", "low", "close", "volume")}
    entries, exits = be.sixbtc_signals(data, be.SETS)  # (n_bars, n_sets), Fortran-ordered views
    args = kernel_args(data, entries.T, exits.T)  # the current kernel's set-major layout (no copy)
    ref_args = kernel_args(data, np.ascontiguousarray(entries), np.ascontiguousarray(exits))  # as it ran
    cells = len(data["close"]) * len(be.SETS)
    old, new = ref_grid_kernel(*ref_args), K.grid_kernel(*args)  # compile / load caches
    assert np.array_equal(old[:, K.M_N_TRADES], new[:, K.M_N_TRADES])
    assert np.array_equal(old[:, K.M_TOTAL_RETURN], new[:, K.M_TOTAL_RETURN])
    np.testing.assert_allclose(new[:, K.M_SHARPE], old[:, K.M_SHARPE], rtol=1e-9, atol=1e-12)
    print(f"machine: {len(os.sched_getaffinity(0))} cores, load average {os.getloadavg()[0]:.2f}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; metrics of both kernels agree")
    figures = {}
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        numba.set_num_threads(threads)
        best = best_alternating({"old": lambda: ref_grid_kernel(*ref_args), "new": lambda: K.grid_kernel(*args)},
                                args_ns.repeats)
        figures[threads] = {k: v / cells * 1e9 for k, v in best.items()}
        print(f"threads={threads}: old {best['old'] * 1e3:.1f} ms ({figures[threads]['old']:.2f} ns/bar-set), "
              f"new {best['new'] * 1e3:.1f} ms ({figures[threads]['new']:.2f} ns/bar-set), "
              f"new/old {best['new'] / best['old']:.2f}; load {os.getloadavg()[0]:.2f}")
    layout(data, entries, exits, args_ns.repeats)
    split(data, args, args_ns.repeats)
    f = figures[numba.config.NUMBA_NUM_THREADS]
    print(f"kernel: old_ns={f['old']:.2f} new_ns={f['new']:.2f} ratio={f['new'] / f['old']:.2f}")


if __name__ == "__main__":
    main()
