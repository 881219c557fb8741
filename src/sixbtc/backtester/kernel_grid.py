"""Numba kernel of grid (type ``GRD``) strategies: multi-level positions around a moving center.

Semantics are documented in :mod:`sixbtc.backtester.engine_grid` (the checked public API);
this module trusts its inputs. It re-uses the equity/metric accumulators, the fill-price rule
and the stop/target test of :mod:`sixbtc.backtester.kernel`, so a grid result has the same
metric columns (``M_*``) and trade columns (``T_*``) as a signal strategy's.

Array conventions
-----------------
* ``open_, high, low, close``: float64 ``(n_bars,)``.
* ``center, step``: float64 ``(k, n_bars)``, C-contiguous (set-major, as the signal
  kernel's ``entries``), with ``k == n_params`` or ``k == 1`` (row 0 shared): the grid's
  center (take-profit) and the price distance between adjacent levels, both known at the
  close of their bar. NaN (or ``step <= 0``) means "no grid from this bar".
* ``levels``: int64 ``(n_params,)``, ``1 <= levels <= MAX_LEVELS``; ``sl_pct``: float64
  ``(n_params,)``, the global stop's distance beyond the deepest level (fraction, > 0).
* ``trades`` (single run): float64 ``(n_window, N_TRADE_COLS)``; one row per grid *cycle*.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from sixbtc.backtester.kernel import (
    A_N,
    END_OF_DATA,
    N_ACC,
    N_METRICS,
    N_TRADE_COLS,
    STOP_LOSS,
    _finish,
    _fold_flat,
    _mark_equity,
    _start_stats,
    book_trade,
    fill_price,
    intrabar_exit,
)

#: Largest number of levels of one grid.
MAX_LEVELS = 20

# Cycle state vector ``g`` (float64, length N_G).
G_FILLED = 0  # levels filled so far (0 = flat)
G_FIRST = 1  # bar index of the first fill
G_QTY = 2  # total quantity (base units)
G_COST = 3  # sum of qty * fill price (quote)
G_NOTIONAL = 4  # sum of fill notionals (USD)
G_FEES = 5  # entry fees so far (USD)
G_FUNDING = 6  # funding paid so far (USD)
G_ALLOC = 7  # allocation of the cycle (USD), frozen at the first fill
G_STOP = 8  # global stop price, frozen at the first fill
N_G = 9


@njit(cache=True)
def _close_cycle(g, acc, i, raw_price, reason, cash, direction, fee_rate, slip, record, trades):
    """Close every filled level at ``raw_price`` on bar ``i``; record one trade; return cash."""
    exit_fill = fill_price(raw_price, -direction, slip)
    qty = g[G_QTY]
    gross = direction * (qty * exit_fill - g[G_COST])
    exit_fee = qty * exit_fill * fee_rate
    fees = g[G_FEES] + exit_fee
    pnl = gross - fees - g[G_FUNDING]
    ret = pnl / g[G_NOTIONAL]
    book_trade(acc, record, trades, g[G_FIRST], i, g[G_COST] / qty, exit_fill, qty, g[G_NOTIONAL], fees,
               g[G_FUNDING], pnl, ret, i - g[G_FIRST] + 1.0, reason)
    g[:] = 0.0
    return cash + gross - exit_fee


@njit(cache=True)
def _set_grid(prices, c, s, n_levels, direction, sl):
    """Level prices ``c - direction * j * s`` (j = 1..n) into ``prices``; return the stop,
    or ``nan`` when there is no valid grid (NaN inputs, ``s <= 0``, a level or stop <= 0)."""
    if not (np.isfinite(c) and np.isfinite(s) and s > 0.0):
        return np.nan
    for j in range(n_levels):
        prices[j] = c - direction * (j + 1) * s
    stop = prices[n_levels - 1] * (1.0 - direction * sl)
    if prices[n_levels - 1] <= 0.0 or stop <= 0.0:
        return np.nan
    return stop


@njit(cache=True)
def _fill_levels(g, prices, n_levels, i, o, h, lo, cash, direction, fee_rate, slip, position_frac):
    """Fill the unfilled levels the bar touched (closest first); return the new cash."""
    while g[G_FILLED] < n_levels:
        level = prices[int(g[G_FILLED])]
        if direction > 0:
            if lo > level:
                break
            raw = min(o, level)
        else:
            if h < level:
                break
            raw = max(o, level)
        if g[G_FILLED] == 0.0:
            g[G_FIRST] = i
            g[G_ALLOC] = position_frac * cash
        fill = fill_price(raw, direction, slip)
        notional = g[G_ALLOC] / n_levels
        fee = notional * fee_rate
        q = notional / fill
        g[G_QTY] += q
        g[G_COST] += q * fill
        g[G_NOTIONAL] += notional
        g[G_FEES] += fee
        g[G_FILLED] += 1.0
        cash -= fee
    return cash


@njit(cache=True)
def simulate_grid(open_, high, low, close, center, step, col, n_levels, sl, direction, fee_rate,
                  slip, funding, position_frac, init_cash, start, end, bars_per_year, out_row,
                  record, trades, equity_out, day_of_bar, day_equity):
    """Simulate one grid parameter set (rows ``col`` of ``center, step``) over bars ``[start, end)``.

    Same outputs as :func:`sixbtc.backtester.kernel.simulate`; returns the number of trades
    (grid cycles).
    """
    col = np.int64(col)
    ccol = col if center.shape[0] > 1 else np.int64(0)
    scol = col if step.shape[0] > 1 else np.int64(0)
    has_funding = funding.shape[0] > 0
    g = np.zeros(N_G)
    prices = np.zeros(n_levels)
    acc = np.zeros(N_ACC)
    st = _start_stats(init_cash)
    prev, flat = init_cash, 0.0  # see _fold_flat
    cash = init_cash
    by_day = day_equity.shape[0] > 0
    for i in range(start, end):
        o, h, lo = open_[i], high[i], low[i]
        closed = False
        carried = g[G_FILLED] > 0.0
        if carried:
            if has_funding:
                pay = direction * g[G_QTY] * o * funding[i]
                g[G_FUNDING] += pay
                cash -= pay
            tp = center[ccol, i - 1]
            target = tp if np.isfinite(tp) else direction * np.inf
            raw, reason = intrabar_exit(o, h, lo, direction, g[G_STOP], STOP_LOSS, target)
            if reason >= 0:
                cash = _close_cycle(g, acc, i, raw, reason, cash, direction, fee_rate, slip,
                                    record, trades)
                closed = True
        if not closed and i > start and (carried or cash > 0.0):
            if not carried:
                c, s = center[ccol, i - 1], step[scol, i - 1]
                first = c - direction * s  # NaN when there is no grid: never touched
                reached = lo <= first if direction > 0 else h >= first
                stop = _set_grid(prices, c, s, n_levels, direction, sl) if reached else np.nan
                if np.isfinite(stop):
                    g[G_STOP] = stop
                    cash = _fill_levels(g, prices, n_levels, i, o, h, lo, cash, direction,
                                        fee_rate, slip, position_frac)
                    if g[G_FILLED] > 0.0:  # a cycle opened on this bar: only its stop counts
                        raw, reason = intrabar_exit(o, h, lo, direction, g[G_STOP], STOP_LOSS,
                                                    direction * np.inf)
                        if reason >= 0:
                            cash = _close_cycle(g, acc, i, raw, reason, cash, direction,
                                                fee_rate, slip, record, trades)
                    else:
                        g[:] = 0.0
            else:
                cash = _fill_levels(g, prices, n_levels, i, o, h, lo, cash, direction, fee_rate,
                                    slip, position_frac)
        if g[G_FILLED] > 0.0 and i == end - 1:
            cash = _close_cycle(g, acc, i, close[i], END_OF_DATA, cash, direction, fee_rate,
                                slip, record, trades)
        equity = cash + direction * (g[G_QTY] * close[i] - g[G_COST]) if g[G_FILLED] > 0.0 else cash
        if equity == prev:  # a zero return: counted only (_fold_flat)
            flat += 1.0
        else:
            if flat > 0.0:
                st = _fold_flat(st, flat)
                flat = 0.0
            st = _mark_equity(st, prev, equity)
            prev = equity
        if record:
            equity_out[i - start] = equity
        if by_day:
            day_equity[day_of_bar[i - start]] = equity
    _finish(out_row, acc, st, flat, cash, init_cash, end - start, bars_per_year)
    return int(acc[A_N])


@njit(cache=True, parallel=True)
def grid_levels_kernel(open_, high, low, close, center, step, levels, sl_pct, direction, fee_rate,
                       slip, funding, position_frac, init_cash, start, end, bars_per_year):
    """Run :func:`simulate_grid` for every parameter set in parallel; ``(n_params, N_METRICS)``."""
    n_params = sl_pct.shape[0]
    out = np.empty((n_params, N_METRICS))
    no_trades = np.empty((0, N_TRADE_COLS))
    no_equity = np.empty(0)
    no_days = np.empty(0, dtype=np.int64)
    for p in prange(n_params):
        simulate_grid(open_, high, low, close, center, step, p, levels[p], sl_pct[p], direction,
                      fee_rate, slip, funding, position_frac, init_cash, start, end, bars_per_year,
                      out[p], False, no_trades, no_equity, no_days, no_equity)
    return out


@njit(cache=True, parallel=True)
def grid_levels_daily_kernel(open_, high, low, close, center, step, levels, sl_pct, direction,
                             fee_rate, slip, funding, position_frac, init_cash, start, end,
                             bars_per_year, day_of_bar, n_days):
    """Like :func:`grid_levels_kernel`, also returning end-of-day equity ``(n_days, n_params)``."""
    n_params = sl_pct.shape[0]
    out = np.empty((n_params, N_METRICS))
    day_eq = np.empty((n_params, n_days))
    no_trades = np.empty((0, N_TRADE_COLS))
    no_equity = np.empty(0)
    for p in prange(n_params):
        simulate_grid(open_, high, low, close, center, step, p, levels[p], sl_pct[p], direction,
                      fee_rate, slip, funding, position_frac, init_cash, start, end, bars_per_year,
                      out[p], False, no_trades, no_equity, day_of_bar, day_eq[p])
    return out, day_eq.T.copy()


@njit(cache=True)
def single_grid_kernel(open_, high, low, close, center, step, n_levels, sl, direction, fee_rate,
                       slip, funding, position_frac, init_cash, start, end, bars_per_year):
    """One parameter set with trades; return ``(metrics, trades, equity)`` as
    :func:`sixbtc.backtester.kernel.single_kernel`."""
    out = np.empty(N_METRICS)
    trades = np.empty((end - start, N_TRADE_COLS))
    equity = np.empty(end - start)
    n = simulate_grid(open_, high, low, close, center, step, 0, n_levels, sl, direction, fee_rate,
                      slip, funding, position_frac, init_cash, start, end, bars_per_year, out, True,
                      trades, equity, np.empty(0, dtype=np.int64), np.empty(0))
    return out, trades[:n].copy(), equity
