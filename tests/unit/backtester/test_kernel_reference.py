"""Kernel changes against the previous kernel on every generated strategy of a seeded factory run.

``reference_kernel_v1.py`` (next to this file) is a frozen copy of the simulation kernels as
of commit 6f9115c. Every candidate of ``generate(40, default_rng(2026), sources=all)`` is
executed in-process (:class:`sixbtc.strategy.sandbox_worker.Worker`, the worker's own code
path) on a seeded random-walk OHLC series with funding; each of its parameter sets runs
through the current public engine and through the reference ``simulate`` /
``simulate_grid``:

* trades (every column, bit for bit), the per-bar equity (bit for bit) and every metric except
  the two fed by the running mean/variance of the returns are identical;
* Sharpe and Sortino (whose mean/M2 are now accumulated with flat bars folded in one step)
  agree to 1e-9 relative;
* the parallel grid kernels (``run_grid``, ``run_grid_daily``, ``run_grid_levels``) give the
  same metrics as the single runs, with Fortran- and C-ordered ``(n_bars, n_sets)`` signals.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from sixbtc.backtester import kernel as K
from sixbtc.backtester import run_grid, run_single
from sixbtc.backtester.engine import run_grid_daily
from sixbtc.backtester.engine_grid import run_grid_levels, run_single_grid
from sixbtc.generator.factory import SUPPORTED_SOURCES, generate
from sixbtc.strategy import indicator_cache
from sixbtc.strategy.contract import StrategySpec
from sixbtc.strategy.sandbox_worker import StrategyFailure, Worker

_SPEC = importlib.util.spec_from_file_location(
    "reference_kernel_v1", Path(__file__).with_name("reference_kernel_v1.py"))
REF = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = REF  # numba's cache pickles the module name
_SPEC.loader.exec_module(REF)

N_BARS, START, FEE, SLIP, BPY, CASH = 1_200, 300, 0.00045, 2e-4, 8760.0, 10_000.0
N_STRATEGIES, SEED = 40, 2026
EXACT = ("total_return", "annual_return", "max_drawdown", "win_rate", "profit_factor", "expectancy",
         "n_trades", "exposure", "avg_holding_bars")


def _market() -> dict[str, np.ndarray]:
    """Seeded random walk (1h-like) with wicks, volume, funding every 8th bar and extras."""
    rng = np.random.default_rng(SEED)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, N_BARS)))
    open_ = np.r_[100.0, close[:-1]] * np.exp(rng.normal(0.0, 0.001, N_BARS))
    wick = np.abs(rng.normal(0.0, 0.006, (2, N_BARS)))
    data = {"open": open_, "high": np.maximum(open_, close) * (1 + wick[0]),
            "low": np.minimum(open_, close) * (1 - wick[1]), "close": close,
            "volume": rng.uniform(1e3, 1e4, N_BARS)}
    data["funding"] = np.where(np.arange(N_BARS) % 8 == 0, rng.normal(1e-4, 1e-4, N_BARS), 0.0)
    data["open_interest"] = rng.uniform(1e6, 2e6, N_BARS)
    data["open_time"] = (1_700_000_000_000 + 3_600_000 * np.arange(N_BARS)).astype(np.int64)
    for k in ("open", "high", "low", "close", "volume"):
        data[f"btc_{k}"] = data[k][::-1].copy()
        for tf in ("4h", "1d"):
            data[f"htf_{tf}_{k}"] = data[k].copy()
    return data


@pytest.fixture(scope="module")
def market() -> dict[str, np.ndarray]:
    return _market()


@pytest.fixture(scope="module")
def candidates():
    return generate(N_STRATEGIES, np.random.default_rng(SEED), sources=tuple(SUPPORTED_SOURCES)).candidates


def _signals(code: str, data: dict[str, np.ndarray]):
    """``(spec, params, first, second)`` of one strategy through the worker's code path."""
    worker = Worker(code)
    loaded = worker.load()
    spec = StrategySpec.from_declared(loaded["class_name"], loaded["declared"])
    params = spec.grid()
    indicator_cache.activate(indicator_cache.IndicatorCache(64 << 20))
    try:
        indicator_cache.active().set_dataset(data)
        first, second = worker.signals(data, params)
    finally:
        indicator_cache.deactivate()
    return spec, params, first, second


def _reference(d, first, second, p, direction):
    """Metrics, trades and equity of one set through the frozen kernel (record=True)."""
    out = np.empty(K.N_METRICS)
    trades = np.empty((N_BARS - START, K.N_TRADE_COLS))
    equity = np.empty(N_BARS - START)
    no_days = np.empty(0, dtype=np.int64)
    col = (np.ascontiguousarray(first[:, None]), np.ascontiguousarray(second[:, None]))
    if first.dtype == np.float64:
        n = REF.simulate_grid(d["open"], d["high"], d["low"], d["close"], *col, 0, int(p["levels"]),
                              float(p["sl_pct"]), direction, FEE, SLIP, d["funding"], 1.0, CASH, START,
                              N_BARS, BPY, out, True, trades, equity, no_days, np.empty(0))
    else:
        n = REF.simulate(d["open"], d["high"], d["low"], d["close"], *col, 0, float(p["sl_pct"]),
                         float(p["tp_pct"]), direction, FEE, SLIP, d["funding"], 0, REF.SIZE_EQUITY_FRAC,
                         1.0, 1.0, math.inf, CASH, START, N_BARS, BPY, out, True, trades, equity, no_days,
                         np.empty(0))
    return out, trades[:n], equity


def _current(d, first, second, p, direction):
    kw = dict(direction=direction, fee_rate=FEE, slippage_bps=SLIP * 1e4, funding_rate=d["funding"],
              start=START, bars_per_year=BPY, init_cash=CASH)
    if first.dtype == np.float64:
        return run_single_grid(d["open"], d["high"], d["low"], d["close"], first, second,
                               levels=int(p["levels"]), sl_pct=float(p["sl_pct"]), **kw)
    return run_single(d["open"], d["high"], d["low"], d["close"], first, second,
                      sl_pct=float(p["sl_pct"]), tp_pct=float(p["tp_pct"]), **kw)


def _grid_runs(d, params, first, second, direction):
    """Metrics of all sets through the parallel kernels (plain and daily), with the signals
    ``(n_bars, n_sets)`` in both memory orders: Fortran (``first.T``, the view the factory
    passes) and C (a transposed copy)."""
    runs = []
    for ent, ext in ((first.T, second.T), (np.ascontiguousarray(first.T), np.ascontiguousarray(second.T))):
        runs += _grid_runs_of(d, params, ent, ext, first.dtype == np.float64, direction)
    return runs


def _grid_runs_of(d, params, ent, ext, grid, direction):
    sl = np.array([p["sl_pct"] for p in params], dtype=np.float64)
    kw = dict(direction=direction, fee_rate=FEE, slippage_bps=SLIP * 1e4, funding_rate=d["funding"],
              start=START, bars_per_year=BPY, init_cash=CASH)
    if grid:
        levels = np.array([p["levels"] for p in params], dtype=np.int64)
        return [run_grid_levels(d["open"], d["high"], d["low"], d["close"], ent, ext, levels, sl, **kw)]
    tp = np.array([p["tp_pct"] for p in params], dtype=np.float64)
    days = np.arange(N_BARS, dtype=np.int64) // 24
    return [run_grid(d["open"], d["high"], d["low"], d["close"], ent, ext, sl, tp, **kw),
            run_grid_daily(d["open"], d["high"], d["low"], d["close"], ent, ext, sl, tp, day_of_bar=days, **kw)[0]]


def _check_set(ref, cur, where: str) -> None:
    out, trades, equity = ref
    for got, want in ((_trade_matrix(cur), trades), (cur.equity, equity)):
        if not np.array_equal(got, want, equal_nan=True):  # (fast path; the assert says where)
            np.testing.assert_array_equal(got, want, err_msg=where)
    m = cur.metrics
    for name in EXACT:
        assert getattr(m, name) == out[getattr(K, "M_" + name.upper())], (where, name)
    for name in ("sharpe", "sortino"):
        assert getattr(m, name) == pytest.approx(out[getattr(K, "M_" + name.upper())], rel=1e-9, abs=1e-12), \
            (where, name)


def _trade_matrix(res) -> np.ndarray:
    """The trade records of a ``SingleResult`` as the kernel's ``(n, N_TRADE_COLS)`` matrix."""
    t = res.trades
    cols = ("entry_idx", "exit_idx", "entry_price", "exit_price", "qty", "notional_usd", "fees_usd",
            "funding_usd", "pnl_usd", "return_frac", "bars_held", "exit_reason")
    return np.column_stack([np.asarray(t[c], dtype=np.float64) for c in cols]) if len(t) else \
        np.empty((0, K.N_TRADE_COLS))


def test_every_generated_strategy_matches_the_previous_kernel(market, candidates) -> None:
    ran, sets, trades, grids = 0, 0, 0, 0
    for cand in candidates:
        try:
            spec, params, first, second = _signals(cand.code, market)
        except (StrategyFailure, KeyError) as exc:  # an input this synthetic market lacks
            print(f"{cand.name}: skipped ({exc})")
            continue
        direction = spec.direction.sign
        singles = []
        for j, p in enumerate(params):
            ref = _reference(market, first[j], second[j], p, direction)
            cur = _current(market, first[j], second[j], p, direction)
            _check_set(ref, cur, f"{cand.name} set {j} {p}")
            singles.append(cur.metrics)
            trades += len(ref[1])
        for res in _grid_runs(market, params, first, second, direction):
            for name in EXACT + ("sharpe", "sortino"):
                np.testing.assert_array_equal(getattr(res, name), [getattr(m, name) for m in singles],
                                              err_msg=f"{cand.name} grid {name}")
        ran, sets, grids = ran + 1, sets + len(params), grids + (first.dtype == np.float64)
    print(f"{ran} strategies ({grids} GRD), {sets} parameter sets, {trades} trades compared")
    assert ran >= 0.9 * len(candidates) and grids > 0 and trades > 1000
