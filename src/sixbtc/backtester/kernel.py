"""Numba kernels of the backtest engine: signals -> trades -> running metrics.

Only compiled code and the integer layout constants live here; argument checking,
documentation of the public semantics and result types are in
:mod:`sixbtc.backtester.engine`. Every kernel trusts its inputs (checked by the engine).

Array conventions
-----------------
* ``open_, high, low, close``: float64 ``(n_bars,)``.
* ``entries, exits``: bool ``(k, n_bars)``, C-contiguous (set-major: one set's bars are
  contiguous in memory), with ``k == n_params`` or ``k == 1`` (row 0 is then shared by every
  parameter set). The public engine takes ``(n_bars, n_params)`` and passes its transpose,
  a view without copy for Fortran-ordered input (:func:`sixbtc.backtester.engine.run_grid`).
* ``sl_pct, tp_pct``: float64 ``(n_params,)``, fractions of the entry fill price;
  ``0`` or ``NaN`` disables the level.
* ``funding``: float64 ``(n_bars,)`` or ``(0,)`` when there is no funding.
* ``sizing``: one of the ``SIZE_*`` codes; ``size_value`` its parameter (``position_frac``,
  ``notional_usd`` or ``risk_per_trade``). ``SIZE_RISK`` needs every ``sl_pct > 0``.
* ``out``: float64 ``(n_params, N_METRICS)``, columns in the order of the ``M_*`` constants.
* ``trades`` (single run only): float64 ``(n_window, N_TRADE_COLS)``, columns ``T_*``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from sixbtc.domain import sizing as sizing_rule

# ExitReason integer codes (mirrors sixbtc.domain.trading.ExitReason).
SIGNAL = 0
STOP_LOSS = 1
TAKE_PROFIT = 2
TIME_LIMIT = 3
LIQUIDATION = 4
END_OF_DATA = 5

# Position sizing modes (``sizing`` argument; ``size_value`` is the mode's parameter): the one
# rule of backtests, paper and live, :func:`sixbtc.domain.sizing.position_notional`, compiled.
SIZE_EQUITY_FRAC = sizing_rule.SIZE_EQUITY_FRAC  # notional = size_value (position_frac) * equity * leverage
SIZE_FIXED_NOTIONAL = sizing_rule.SIZE_FIXED_NOTIONAL  # notional = min(size_value (USD), leverage * equity)
SIZE_RISK = sizing_rule.SIZE_RISK  # notional = min(equity * size_value (risk_per_trade) / sl, leverage * equity)

MAINTENANCE_MARGIN = sizing_rule.MAINTENANCE_MARGIN
_position_notional = njit(cache=True)(sizing_rule.position_notional)
_liquidation_price = njit(cache=True)(sizing_rule.liquidation_price)
PROFIT_FACTOR_CAP = 1000.0
SORTINO_CAP = 1000.0
ANNUAL_RETURN_CAP = 1.0e6

# Metric columns of ``out``.
M_TOTAL_RETURN = 0
M_ANNUAL_RETURN = 1
M_SHARPE = 2
M_SORTINO = 3
M_MAX_DRAWDOWN = 4
M_WIN_RATE = 5
M_PROFIT_FACTOR = 6
M_EXPECTANCY = 7
M_N_TRADES = 8
M_EXPOSURE = 9
M_AVG_HOLDING_BARS = 10
N_METRICS = 11

# Trade record columns.
T_ENTRY_IDX = 0
T_EXIT_IDX = 1
T_ENTRY_PRICE = 2
T_EXIT_PRICE = 3
T_QTY = 4
T_NOTIONAL = 5
T_FEES = 6
T_FUNDING = 7
T_PNL = 8
T_RETURN = 9
T_BARS_HELD = 10
T_REASON = 11
N_TRADE_COLS = 12

# Open-position state vector ``pos`` (float64, length N_POS).
P_ENTRY_IDX = 0
P_ENTRY_FILL = 1
P_QTY = 2
P_NOTIONAL = 3
P_FEES = 4
P_FUNDING = 5
P_ADVERSE = 6
P_ADVERSE_REASON = 7
P_TARGET = 8
N_POS = 9

# Trade accumulators ``acc`` (float64, length N_ACC).
A_N = 0
A_WINS = 1
A_GROSS_PROFIT = 2
A_GROSS_LOSS = 3
A_SUM_RETURN = 4
A_SUM_BARS = 5
N_ACC = 6

# Running statistics of the close-of-bar equity ``st``: a tuple ``(n, mean, m2, down, peak,
# max_dd)`` of float64 (Welford count/mean/M2 of the per-bar returns, downside sum of squares,
# equity peak, max drawdown), carried in locals (registers) through the bar loop, not an array
# (see :func:`_mark_equity`).


@njit(cache=True)
def fill_price(price, side, slip):
    """Move ``price`` adversely for a buy (``side=+1``) or a sell (``side=-1``)."""
    return price * (1.0 + side * slip)


@njit(cache=True)
def _set_levels(pos, direction, sl, tp, leverage):
    """Store the adverse level (stop or liquidation, whichever is closer) and the target."""
    e = pos[P_ENTRY_FILL]
    liq = _liquidation_price(e, direction, leverage)
    adverse = liq
    reason = LIQUIDATION
    if sl > 0.0:  # NaN compares False: disabled
        stop = e * (1.0 - direction * sl)
        # The liquidation is taken first only when it is strictly closer than the stop.
        if direction * (liq - stop) <= 0.0:
            adverse = stop
            reason = STOP_LOSS
    pos[P_ADVERSE] = adverse
    pos[P_ADVERSE_REASON] = reason
    pos[P_TARGET] = e * (1.0 + direction * tp) if tp > 0.0 else direction * np.inf


@njit(cache=True)
def intrabar_exit(o, h, lo, direction, adverse, adverse_reason, target):
    """Return ``(raw fill price, reason)`` of a stop/target/liquidation hit, or ``(nan, -1)``.

    Gaps at the open fill at the open; otherwise a touched level fills at the level. The
    adverse level is checked before the target (conservative when both are touched).
    """
    if direction > 0:
        if o <= adverse:
            return o, adverse_reason
        if o >= target:
            return o, TAKE_PROFIT
        if lo <= adverse:
            return adverse, adverse_reason
        if h >= target:
            return target, TAKE_PROFIT
    else:
        if o >= adverse:
            return o, adverse_reason
        if o <= target:
            return o, TAKE_PROFIT
        if h >= adverse:
            return adverse, adverse_reason
        if lo <= target:
            return target, TAKE_PROFIT
    return np.nan, -1


@njit(cache=True)
def _close_trade(pos, acc, i, raw_price, reason, at_open, cash, direction, fee_rate, slip,
                 record, trades):
    """Close the open position at ``raw_price`` on bar ``i``; return the new cash."""
    exit_fill = fill_price(raw_price, -direction, slip)
    qty = pos[P_QTY]
    gross = direction * qty * (exit_fill - pos[P_ENTRY_FILL])
    exit_fee = qty * exit_fill * fee_rate
    fees = pos[P_FEES] + exit_fee
    pnl = gross - fees - pos[P_FUNDING]
    ret = pnl / pos[P_NOTIONAL]
    bars = i - pos[P_ENTRY_IDX] + (0.0 if at_open else 1.0)
    book_trade(acc, record, trades, pos[P_ENTRY_IDX], i, pos[P_ENTRY_FILL], exit_fill, qty, pos[P_NOTIONAL],
               fees, pos[P_FUNDING], pnl, ret, bars, reason)
    return cash + gross - exit_fee


@njit(cache=True)
def book_trade(acc, record, trades, entry_idx, exit_idx, entry_price, exit_price, qty, notional, fees, funding,
               pnl, ret, bars, reason):
    """Add one closed trade to the accumulators ``acc`` (and, when ``record``, row ``acc[A_N]``
    of ``trades``)."""
    k = int(acc[A_N])
    if record:
        trades[k, T_ENTRY_IDX] = entry_idx
        trades[k, T_EXIT_IDX] = exit_idx
        trades[k, T_ENTRY_PRICE] = entry_price
        trades[k, T_EXIT_PRICE] = exit_price
        trades[k, T_QTY] = qty
        trades[k, T_NOTIONAL] = notional
        trades[k, T_FEES] = fees
        trades[k, T_FUNDING] = funding
        trades[k, T_PNL] = pnl
        trades[k, T_RETURN] = ret
        trades[k, T_BARS_HELD] = bars
        trades[k, T_REASON] = reason
    acc[A_N] += 1.0
    if pnl > 0.0:
        acc[A_WINS] += 1.0
        acc[A_GROSS_PROFIT] += pnl
    else:
        acc[A_GROSS_LOSS] -= pnl
    acc[A_SUM_RETURN] += ret
    acc[A_SUM_BARS] += bars


@njit(cache=True)
def entry_notional(cash, sizing, size_value, leverage, sl, max_notional):
    """Entry notional in USD for equity ``cash`` under sizing mode ``sizing`` (``SIZE_*``),
    capped at ``max_notional`` (:func:`sixbtc.domain.sizing.position_notional`)."""
    return _position_notional(cash, sl, sizing, size_value, leverage, max_notional)


@njit(cache=True)
def _open_trade(pos, i, o, cash, direction, sl, tp, fee_rate, slip, sizing, size_value,
                leverage, max_notional):
    """Open a position at ``o`` on bar ``i`` sized from ``cash``; return the new cash."""
    entry_fill = fill_price(o, direction, slip)
    notional = entry_notional(cash, sizing, size_value, leverage, sl, max_notional)
    fee = notional * fee_rate
    pos[P_ENTRY_IDX] = i
    pos[P_ENTRY_FILL] = entry_fill
    pos[P_QTY] = notional / entry_fill
    pos[P_NOTIONAL] = notional
    pos[P_FEES] = fee
    pos[P_FUNDING] = 0.0
    _set_levels(pos, direction, sl, tp, leverage)
    return cash - fee


@njit(cache=True)
def _start_stats(init_cash):
    """The statistics ``st`` before the first bar (peak = ``init_cash``)."""
    return (0.0, 0.0, 0.0, 0.0, init_cash, 0.0)


@njit(cache=True)
def _mark_equity(st, prev, equity):
    """``st`` updated with a bar whose close-of-bar equity moved from ``prev`` to ``equity``:
    one Welford step of the return (Welford 1962), the downside sum, peak and drawdown.

    Takes and returns the statistics as a tuple, which the compiled loops keep in registers:
    the same arithmetic on an ``eqs`` array (a store and a reload per statistic and bar,
    which LLVM cannot keep in registers as the array may alias the outputs) measured 1.45-1.9x
    slower for the whole kernel (``benchmarks/README.md``, 2026-12-03), bit-identical results.
    """
    n, mean, m2, down, peak, max_dd = st
    r = equity / prev - 1.0 if prev > 0.0 else 0.0
    n += 1.0
    delta = r - mean
    mean += delta / n
    m2 += delta * (r - mean)
    if r < 0.0:
        down += r * r
    if equity > peak:
        peak = equity
    dd = 1.0 - equity / peak
    if dd > max_dd:
        max_dd = dd
    return (n, mean, m2, down, peak, max_dd)


@njit(cache=True)
def _fold_flat(st, k):
    """``st`` with ``k`` zero returns folded into the running count/mean/M2 in one step.

    Pairwise update of (n, mean, M2) with k zeros (mean 0, M2 0): Chan, Golub & LeVeque
    (1979), "Updating formulae and a pairwise algorithm for computing sample variances":
    ``mean' = mean * n / (n + k)``, ``M2' = M2 + mean**2 * n * k / (n + k)``. A zero return
    changes neither the downside sum nor the peak or the drawdown.

    Both simulation loops count a bar whose close-of-bar equity equals the previous bar's
    (flat, or a position whose mark did not move) in a local ``flat`` (a register) instead
    of a Welford step with its divisions, and fold the count before the next moving bar and
    in :func:`_finish`: the metrics equal one Welford step per bar up to rounding (1e-12
    relative).
    """
    if k > 0.0:
        n, mean, m2, down, peak, max_dd = st
        total = n + k
        return (total, mean * n / total, m2 + mean * mean * n * k / total, down, peak, max_dd)
    return st


@njit(cache=True)
def _finish(out_row, acc, st, flat, final_equity, init_cash, n_window, bars_per_year):
    """Write the metrics of one simulation into ``out_row`` (length N_METRICS); ``st``: the
    equity statistics (:func:`_mark_equity`), ``flat``: the zero-return bars not folded into
    them yet (see :func:`_fold_flat`)."""
    n, mean, m2, down_sq, _peak, max_dd = _fold_flat(st, flat)
    growth = final_equity / init_cash
    out_row[M_TOTAL_RETURN] = growth - 1.0
    if growth > 0.0:
        log_annual = math.log(growth) * bars_per_year / n_window
        out_row[M_ANNUAL_RETURN] = min(math.expm1(min(log_annual, 20.0)), ANNUAL_RETURN_CAP)
    else:
        out_row[M_ANNUAL_RETURN] = -1.0
    std = math.sqrt(m2 / (n - 1.0)) if n > 1.0 else 0.0
    ann = math.sqrt(bars_per_year)
    out_row[M_SHARPE] = mean / std * ann if std > 0.0 else 0.0
    down = math.sqrt(down_sq / n) if n > 0.0 else 0.0
    if down > 0.0:
        out_row[M_SORTINO] = min(mean / down * ann, SORTINO_CAP)
    else:
        out_row[M_SORTINO] = SORTINO_CAP if mean > 0.0 else 0.0
    out_row[M_MAX_DRAWDOWN] = max_dd
    nt = acc[A_N]
    out_row[M_N_TRADES] = nt
    out_row[M_WIN_RATE] = acc[A_WINS] / nt if nt > 0 else 0.0
    out_row[M_EXPECTANCY] = acc[A_SUM_RETURN] / nt if nt > 0 else 0.0
    out_row[M_AVG_HOLDING_BARS] = acc[A_SUM_BARS] / nt if nt > 0 else 0.0
    out_row[M_EXPOSURE] = acc[A_SUM_BARS] / n_window
    if acc[A_GROSS_LOSS] > 0.0:
        out_row[M_PROFIT_FACTOR] = min(acc[A_GROSS_PROFIT] / acc[A_GROSS_LOSS], PROFIT_FACTOR_CAP)
    else:
        out_row[M_PROFIT_FACTOR] = PROFIT_FACTOR_CAP if acc[A_GROSS_PROFIT] > 0.0 else 0.0


@njit(cache=True)
def simulate(open_, high, low, close, entries, exits, col, sl, tp, direction, fee_rate, slip,
             funding, max_bars_held, sizing, size_value, leverage, max_notional, init_cash, start, end,
             bars_per_year, out_row, record, trades, equity_out, day_of_bar, day_equity):
    """Simulate one parameter set (signal row ``col`` of the set-major signals) over bars ``[start, end)``.

    Writes metrics to ``out_row``; when ``record`` is true also writes the trades to
    ``trades`` and the close-of-bar equity to ``equity_out`` (``(end - start,)``). When
    ``day_equity`` is non-empty, ``day_equity[day_of_bar[i - start]]`` receives the equity at
    the close of bar ``i`` (so each entry ends as the day's last close-of-bar equity).
    Returns the number of trades.
    """
    col = np.int64(col)  # a prange index may be unsigned; keep index arithmetic int64
    ecol = col if entries.shape[0] > 1 else np.int64(0)
    xcol = col if exits.shape[0] > 1 else np.int64(0)
    has_funding = funding.shape[0] > 0
    pos = np.zeros(N_POS)
    acc = np.zeros(N_ACC)
    st = _start_stats(init_cash)
    prev, flat = init_cash, 0.0  # see _fold_flat
    cash = init_cash
    in_pos = False
    by_day = day_equity.shape[0] > 0
    for i in range(start, end):
        o = open_[i]
        if in_pos:
            held = i - pos[P_ENTRY_IDX]
            if exits[xcol, i - 1]:
                cash = _close_trade(pos, acc, i, o, SIGNAL, True, cash, direction, fee_rate,
                                    slip, record, trades)
                in_pos = False
            elif max_bars_held > 0 and held >= max_bars_held:
                cash = _close_trade(pos, acc, i, o, TIME_LIMIT, True, cash, direction, fee_rate,
                                    slip, record, trades)
                in_pos = False
            elif has_funding:
                pay = direction * pos[P_QTY] * o * funding[i]
                pos[P_FUNDING] += pay
                cash -= pay
        elif i > start and cash > 0.0 and entries[ecol, i - 1] and not exits[xcol, i - 1]:
            cash = _open_trade(pos, i, o, cash, direction, sl, tp, fee_rate, slip, sizing,
                               size_value, leverage, max_notional)
            in_pos = True
        if in_pos:
            raw, reason = intrabar_exit(o, high[i], low[i], direction, pos[P_ADVERSE],
                                        int(pos[P_ADVERSE_REASON]), pos[P_TARGET])
            if reason >= 0:
                cash = _close_trade(pos, acc, i, raw, reason, False, cash, direction, fee_rate,
                                    slip, record, trades)
                in_pos = False
            elif i == end - 1:
                cash = _close_trade(pos, acc, i, close[i], END_OF_DATA, False, cash, direction,
                                    fee_rate, slip, record, trades)
                in_pos = False
        equity = cash + direction * pos[P_QTY] * (close[i] - pos[P_ENTRY_FILL]) if in_pos else cash
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
def grid_kernel(open_, high, low, close, entries, exits, sl_pct, tp_pct, direction, fee_rate,
                slip, funding, max_bars_held, sizing, size_value, leverage, max_notional, init_cash, start, end,
                bars_per_year):
    """Run :func:`simulate` for every parameter set in parallel; return ``(n_params, N_METRICS)``."""
    n_params = sl_pct.shape[0]
    out = np.empty((n_params, N_METRICS))
    no_trades = np.empty((0, N_TRADE_COLS))
    no_equity = np.empty(0)
    no_days = np.empty(0, dtype=np.int64)
    for p in prange(n_params):
        simulate(open_, high, low, close, entries, exits, p, sl_pct[p], tp_pct[p], direction,
                 fee_rate, slip, funding, max_bars_held, sizing, size_value, leverage, max_notional, init_cash,
                 start, end, bars_per_year, out[p], False, no_trades, no_equity, no_days, no_equity)
    return out


@njit(cache=True, parallel=True)
def grid_daily_kernel(open_, high, low, close, entries, exits, sl_pct, tp_pct, direction, fee_rate,
                      slip, funding, max_bars_held, sizing, size_value, leverage, max_notional, init_cash, start, end,
                      bars_per_year, day_of_bar, n_days):
    """Like :func:`grid_kernel`, also returning each set's end-of-day equity.

    ``day_of_bar`` is int64 ``(end - start,)`` with values in ``[0, n_days)``, non-decreasing.
    Returns ``(out, day_equity)`` with ``day_equity`` float64 ``(n_days, n_params)``: memory
    is ``O(n_days * n_params)``, never per bar.
    """
    n_params = sl_pct.shape[0]
    out = np.empty((n_params, N_METRICS))
    day_eq = np.empty((n_params, n_days))
    no_trades = np.empty((0, N_TRADE_COLS))
    no_equity = np.empty(0)
    for p in prange(n_params):
        simulate(open_, high, low, close, entries, exits, p, sl_pct[p], tp_pct[p], direction,
                 fee_rate, slip, funding, max_bars_held, sizing, size_value, leverage, max_notional, init_cash,
                 start, end, bars_per_year, out[p], False, no_trades, no_equity, day_of_bar, day_eq[p])
    return out, day_eq.T.copy()


@njit(cache=True)
def single_kernel(open_, high, low, close, entries, exits, sl, tp, direction, fee_rate, slip,
                  funding, max_bars_held, sizing, size_value, leverage, max_notional, init_cash, start, end,
                  bars_per_year):
    """Run one parameter set recording trades; return ``(metrics, trades, equity)``.

    ``metrics`` is ``(N_METRICS,)``, ``trades`` is ``(n_trades, N_TRADE_COLS)`` and
    ``equity`` is ``(end - start,)``.
    """
    out = np.empty(N_METRICS)
    trades = np.empty((end - start, N_TRADE_COLS))
    equity = np.empty(end - start)
    n = simulate(open_, high, low, close, entries, exits, 0, sl, tp, direction, fee_rate, slip,
                 funding, max_bars_held, sizing, size_value, leverage, max_notional, init_cash, start, end,
                 bars_per_year, out, True, trades, equity, np.empty(0, dtype=np.int64), np.empty(0))
    return out, trades[:n].copy(), equity
