"""The grid engine (type GRD) against an independent plain-Python reference implementation.

The reference below is written from the semantics in :mod:`sixbtc.backtester.engine_grid`
only (per-level fill objects, P&L summed per level at the exit), not from the kernel's code;
both must give the same trades, equity curve and returns on random synthetic series and on
real Binance candles, for many parameter sets, long and short, with fees, slippage, funding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from sixbtc.backtester.engine_grid import run_grid_levels, run_grid_levels_daily, run_single_grid

DATA = Path("/work/shared/data/binance_usdm")
STOP, TARGET, END = 1, 2, 5


@dataclass
class Fill:
    price: float  # fill price after slippage
    qty: float
    notional: float
    fee: float


def reference(o, h, lo, c, center, step, n_levels, sl, side, fee, slip, funding, frac=1.0,
              cash=10_000.0, start=0, end=None):
    """Plain loop: returns (trades as list of dicts, equity list)."""
    end = len(o) if end is None else end
    fills: list[Fill] = []
    grid: list[float] = []
    stop = math.nan
    alloc = 0.0
    first = -1
    paid = 0.0
    trades, equity = [], []

    def worse(a, b):  # the price further in the adverse direction for an entry
        return min(a, b) if side > 0 else max(a, b)

    def close_all(i, raw, reason):
        nonlocal fills, cash, paid
        px = raw * (1 - side * slip)
        gross = sum(side * f.qty * (px - f.price) for f in fills)
        qty = sum(f.qty for f in fills)
        exit_fee = qty * px * fee
        fees = sum(f.fee for f in fills) + exit_fee
        pnl = gross - fees - paid
        notional = sum(f.notional for f in fills)
        trades.append(dict(entry_idx=first, exit_idx=i, entry_price=sum(f.qty * f.price for f in fills) / qty,
                           exit_price=px, qty=qty, notional_usd=notional, fees_usd=fees, funding_usd=paid,
                           pnl_usd=pnl, return_frac=pnl / notional, bars_held=i - first + 1, exit_reason=reason))
        cash += gross - exit_fee
        fills, paid = [], 0.0

    def exit_hit(i, target):
        beyond_stop = (lambda p: p <= stop) if side > 0 else (lambda p: p >= stop)
        beyond_tp = (lambda p: p >= target) if side > 0 else (lambda p: p <= target)
        adverse_extreme, favourable_extreme = (lo[i], h[i]) if side > 0 else (h[i], lo[i])
        if beyond_stop(o[i]):
            return o[i], STOP
        if target is not None and beyond_tp(o[i]):
            return o[i], TARGET
        if beyond_stop(adverse_extreme):
            return stop, STOP
        if target is not None and beyond_tp(favourable_extreme):
            return target, TARGET
        return None

    def try_fills(i):
        nonlocal cash, alloc, first
        for level in grid[len(fills):]:
            touched = lo[i] <= level if side > 0 else h[i] >= level
            if not touched:
                return
            if not fills:
                first, alloc = i, frac * cash
            px = worse(o[i], level) * (1 + side * slip)
            notional = alloc / n_levels
            fills.append(Fill(px, notional / px, notional, notional * fee))
            cash -= notional * fee

    for i in range(start, end):
        done = False
        if fills:
            if funding is not None:
                pay = side * sum(f.qty for f in fills) * o[i] * funding[i]
                paid += pay
                cash -= pay
            tp = center[i - 1]
            hit = exit_hit(i, tp if not math.isnan(tp) else None)
            if hit:
                close_all(i, *hit)
                done = True
            else:
                try_fills(i)
        elif i > start and cash > 0:
            ctr, st = center[i - 1], step[i - 1]
            if not (math.isnan(ctr) or math.isnan(st)) and st > 0:
                grid = [ctr - side * j * st for j in range(1, n_levels + 1)]
                stop = grid[-1] * (1 - side * sl)
                if grid[-1] > 0 and stop > 0:
                    try_fills(i)
                    if fills:
                        hit = exit_hit(i, None)
                        if hit:
                            close_all(i, *hit)
        del done
        if fills and i == end - 1:
            close_all(i, c[i], END)
        marked = cash + sum(side * f.qty * (c[i] - f.price) for f in fills)
        equity.append(marked)
    return trades, equity


def synthetic(seed: int, n: int = 600):
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.concatenate(([100.0], close[:-1])) * np.exp(rng.normal(0, 0.003, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.006, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.006, n)))
    funding = np.where(np.arange(n) % 8 == 0, rng.normal(0.0001, 0.0002, n), 0.0)
    return open_, high, low, close, funding


def sma(x: np.ndarray, n: int) -> np.ndarray:
    out = np.full(len(x), np.nan)
    csum = np.cumsum(np.concatenate(([0.0], x)))
    out[n - 1:] = (csum[n:] - csum[:-n]) / n
    return out


def atr_like(h, lo, c, n):
    tr = np.maximum(h, np.concatenate(([c[0]], c[:-1]))) - np.minimum(lo, np.concatenate(([c[0]], c[:-1])))
    return sma(tr, n)


PARAM_SETS = [(sma_n, atr_n, k, lv, sl) for sma_n in (10, 30) for atr_n in (7, 21) for k in (0.5, 1.5)
              for lv in (1, 3, 6) for sl in (0.01, 0.05)]


def _check_same(trades, eq_ref, res):
    got = res.trades
    assert len(got) == len(trades)
    for name in ("entry_idx", "exit_idx", "bars_held", "exit_reason"):
        assert got[name].tolist() == [t[name] for t in trades], name
    for name in ("entry_price", "exit_price", "qty", "notional_usd", "fees_usd", "funding_usd", "pnl_usd",
                 "return_frac"):
        np.testing.assert_allclose(got[name], [t[name] for t in trades], rtol=1e-9, atol=1e-9, err_msg=name)
    np.testing.assert_allclose(res.equity, eq_ref, rtol=1e-10)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("side", [1, -1])
def test_kernel_matches_reference_on_synthetic_series(seed, side):
    o, h, lo, c, funding = synthetic(seed)
    rng = np.random.default_rng(100 + seed)
    fee, slip_bps = float(rng.choice([0.0, 0.00045])), float(rng.choice([0.0, 2.0, 10.0]))
    n_cycles = 0
    for sma_n, atr_n, k, lv, sl in PARAM_SETS[seed::4]:
        center, step = sma(c, sma_n), k * atr_like(h, lo, c, atr_n)
        start = int(rng.integers(0, 50))
        ref_trades, ref_eq = reference(o, h, lo, c, center, step, lv, sl, side, fee, slip_bps * 1e-4, funding,
                                       start=start)
        res = run_single_grid(o, h, lo, c, center, step, levels=lv, sl_pct=sl, direction=side, fee_rate=fee,
                              slippage_bps=slip_bps, funding_rate=funding, start=start)
        _check_same(ref_trades, ref_eq, res)
        assert res.metrics.total_return == pytest.approx(ref_eq[-1] / 10_000.0 - 1.0, rel=1e-9)
        n_cycles += len(ref_trades)
    assert n_cycles > 20  # the comparison exercised real cycles


def test_reference_sees_every_exit_kind_and_multi_level_cycles():
    """The cross-check is only as good as what it covers: stops, targets, end of data, and
    cycles with more than one level filled all occur on the synthetic series."""
    reasons, multi = set(), 0
    for seed in range(6):
        o, h, lo, c, funding = synthetic(seed)
        for side in (1, -1):
            for sma_n, atr_n, k, lv, sl in PARAM_SETS[::3]:
                center, step = sma(c, sma_n), k * atr_like(h, lo, c, atr_n)
                res = run_single_grid(o, h, lo, c, center, step, levels=lv, sl_pct=sl, direction=side,
                                      funding_rate=funding)
                reasons |= set(res.trades["exit_reason"].tolist())
                per_level = res.trades["notional_usd"] / (res.trades["notional_usd"].max() or 1.0)
                multi += int(np.sum(per_level > 0.99 / lv + 1e-9)) if lv > 1 else 0
    assert {STOP, TARGET, END} <= reasons
    assert multi > 10


def test_grid_run_equals_single_runs_bit_for_bit():
    o, h, lo, c, funding = synthetic(7)
    sets = PARAM_SETS[::5]
    center = np.stack([sma(c, s[0]) for s in sets], axis=1)
    step = np.stack([s[2] * atr_like(h, lo, c, s[1]) for s in sets], axis=1)
    levels, sl = [s[3] for s in sets], [s[4] for s in sets]
    grid = run_grid_levels(o, h, lo, c, center, step, levels, sl, direction=-1, funding_rate=funding, start=40)
    daily, returns, _ = run_grid_levels_daily(o, h, lo, c, center, step, levels, sl, direction=-1,
                                              funding_rate=funding, start=40, day_of_bar=np.arange(len(o)) // 24)
    for p in range(len(sets)):
        one = run_single_grid(o, h, lo, c, np.ascontiguousarray(center[:, p]), np.ascontiguousarray(step[:, p]),
                              levels=levels[p], sl_pct=sl[p], direction=-1, funding_rate=funding, start=40)
        assert one.metrics == grid.metrics(p) == daily.metrics(p)
        np.testing.assert_allclose(np.prod(1 + returns[:, p]) - 1, one.metrics.total_return, rtol=1e-9, atol=1e-12)


def _real(symbol: str, tf: str, bars: int):
    pd = pytest.importorskip("pandas")
    path = DATA / f"{symbol}_{tf}.parquet"
    if not path.exists():
        pytest.skip(f"real data {path} not present (/work/shared/data)")
    df = pd.read_parquet(path).iloc[-bars:]
    return tuple(df[k].to_numpy(np.float64) for k in ("open", "high", "low", "close"))


@pytest.mark.parametrize(("symbol", "tf"), [("BTC", "1h"), ("ETH", "15m"), ("SOL", "4h")])
def test_kernel_matches_reference_on_real_candles(symbol, tf):
    o, h, lo, c = _real(symbol, tf, 3000)
    funding = np.where(np.arange(len(o)) % 8 == 0, 0.0001, 0.0)
    n_cycles = 0
    for side in (1, -1):
        for sma_n, atr_n, k, lv, sl in PARAM_SETS[::7]:
            center, step = sma(c, sma_n), k * atr_like(h, lo, c, atr_n)
            ref_trades, ref_eq = reference(o, h, lo, c, center, step, lv, sl, side, 0.00045, 2e-4, funding)
            res = run_single_grid(o, h, lo, c, center, step, levels=lv, sl_pct=sl, direction=side,
                                  funding_rate=funding)
            _check_same(ref_trades, ref_eq, res)
            n_cycles += len(ref_trades)
    assert n_cycles > 100


def test_hand_computed_long_cycle():
    """Two levels fill on bar 2 (one through a gap at the open), the center is reached on bar 3."""
    o = np.array([100.0, 100.0, 97.0, 99.0, 100.0])
    h = np.array([100.5, 100.5, 97.5, 101.0, 100.5])
    lo = np.array([99.5, 99.5, 95.5, 98.5, 99.5])
    c = np.array([100.0, 100.0, 96.0, 100.5, 100.0])
    center = np.full(5, 100.0)
    step = np.full(5, 2.0)  # levels 98, 96; stop 96 * 0.9 = 86.4
    res = run_single_grid(o, h, lo, c, center, step, levels=2, sl_pct=0.1, direction=1, fee_rate=0.0,
                          slippage_bps=0.0)
    (t,) = res.trades
    assert (t["entry_idx"], t["exit_idx"], t["exit_reason"]) == (2, 3, TARGET)
    # 5,000 USD at 97 (gap below the 98 limit) and 5,000 USD at 96, sold at 100.
    assert t["entry_price"] == pytest.approx(10_000 / (5_000 / 97 + 5_000 / 96))
    assert t["pnl_usd"] == pytest.approx(5_000 / 97 * 3 + 5_000 / 96 * 4)
    assert res.equity[2] == pytest.approx(10_000 + 5_000 / 97 * -1 + 0)


def test_stop_first_and_no_same_bar_take_profit():
    o = np.array([100.0, 100.0, 100.0, 100.0])
    h = np.array([100.5, 100.5, 101.0, 100.5])
    lo = np.array([99.5, 99.5, 97.0, 99.5])
    c = np.array([100.0, 100.0, 100.0, 100.0])
    center, step = np.full(4, 100.0), np.full(4, 2.0)  # level 98, stop 98 * 0.99 = 97.02
    res = run_single_grid(o, h, lo, c, center, step, levels=1, sl_pct=0.01, direction=1, fee_rate=0.0,
                          slippage_bps=0.0)
    (t,) = res.trades  # filled at 98 on bar 2 and stopped there although the high reached 100
    assert (t["entry_idx"], t["exit_idx"], t["exit_reason"]) == (2, 2, STOP)
    assert t["exit_price"] == pytest.approx(97.02)
    lo[2] = 97.5  # no stop: the high of the fill bar is not credited, the cycle exits on bar 3
    res = run_single_grid(o, h, lo, c, center, step, levels=1, sl_pct=0.01, direction=1, fee_rate=0.0,
                          slippage_bps=0.0)
    (t,) = res.trades
    assert (t["exit_idx"], t["exit_reason"]) == (3, TARGET)


def test_causal_truncation_invariance():
    o, h, lo, c, funding = synthetic(3)
    center, step = sma(c, 20), atr_like(h, lo, c, 14)
    full = run_single_grid(o, h, lo, c, center, step, levels=4, sl_pct=0.02, direction=1, funding_rate=funding)
    cut = 400
    part = run_single_grid(o[:cut], h[:cut], lo[:cut], c[:cut], center[:cut], step[:cut], levels=4, sl_pct=0.02,
                           direction=1, funding_rate=funding[:cut])
    np.testing.assert_array_equal(part.equity[:-1], full.equity[:cut - 1])


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(levels=0), "levels must be in"), (dict(levels=21), "levels must be in"),
    (dict(levels=2.5), "levels must be ints"), (dict(sl_pct=0.0), "sl_pct must be fractions"),
    (dict(sl_pct=0.6), "sl_pct must be fractions"), (dict(center=np.zeros(5, dtype=np.float32)), "center must be"),
    (dict(step=np.full(4, 1.0)), "step has 4 bars"), (dict(step=np.full(5, np.inf)), "step has an infinite"),
    (dict(position_frac=0.0), "position_frac"),
])
def test_bad_arguments_name_the_argument(kwargs, match):
    base = dict(center=np.full(5, 100.0), step=np.full(5, 1.0), levels=2, sl_pct=0.05)
    base.update(kwargs)
    p = np.full(5, 100.0)
    with pytest.raises(ValueError, match=match):
        run_single_grid(p, p, p, p, base.pop("center"), base.pop("step"), direction=1, **base)
