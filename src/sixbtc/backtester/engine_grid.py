"""Public API of the grid engine (strategy type ``GRD``): :func:`run_grid_levels`,
:func:`run_grid_levels_daily` and :func:`run_single_grid`.

They check their arguments and call :mod:`sixbtc.backtester.kernel_grid`; all three share one
simulation routine, so :func:`run_single_grid`'s metrics equal the matching entry of
:func:`run_grid_levels` bit for bit. Metrics and trade records have the layout of the signal
engine (:mod:`sixbtc.backtester.metrics`), so everything downstream treats both alike.

Grid semantics (long; a short mirrors every price: levels above the center, stop above)
--------------------------------------------------------------------------------------
* **Inputs.** ``center[i]`` (e.g. an SMA) and ``step[i]`` (the price distance between two
  adjacent levels, e.g. ``k * ATR``) are known at the close of bar ``i`` and act from bar
  ``i + 1`` on (next-bar semantics, like signals). NaN, or ``step <= 0``, means no grid.
* **Pending grid.** While flat, bar ``i`` (``start < i < end``) carries ``levels`` buy
  limits at ``L_j = center[i-1] - j * step[i-1]``, ``j = 1..levels``, and a global stop at
  ``L_levels * (1 - sl_pct)`` (``sl_pct`` beyond the deepest level). Re-placed every bar
  from the previous bar's values until a level fills. No grid when a level or the stop
  would be <= 0.
* **Fills.** A level fills when the bar's low reaches it, at ``min(open, L_j)`` (a gap below
  the limit fills at the open), closest level first; several can fill in one bar. At the
  cycle's first fill the grid (level prices and stop) is **frozen** until the cycle ends;
  the allocation ``A = position_frac * equity`` is frozen too and every level buys
  ``A / levels`` USD notional (1x: a full grid holds ``A <= equity``; no leverage, so no
  liquidation: the stop always lies above a 1x liquidation price).
* **Exits** (all filled levels together). From the bar after the first fill, each bar
  first pays funding, then checks the global stop and the take-profit ``center[i-1]``
  (follows the center) with the signal engine's rule: a gap beyond a level fills at the
  open, a touched level at the level, the stop first when both are touched in one bar
  (SPEC 3.4). Levels not yet filled may then fill on that bar (if it did not exit). On the
  bar of the first fill only the stop is checked (after the fills): a level filled
  intrabar is never credited a take-profit on the same bar (conservative). A cycle that
  ends on bar ``i`` does not start a new one on bar ``i``. A cycle still open after bar
  ``end - 1`` closes at ``close[end - 1]`` (``END_OF_DATA``).
* **Trades.** One record per grid *cycle* (first fill to exit), not per level: levels filled
  together are one bet, so the trade count is not inflated. ``entry_idx`` is the first
  fill's bar, ``entry_price`` the quantity-weighted mean fill, ``qty``/``notional_usd``
  the sums over the filled levels, ``fees_usd`` all entry and exit fees, ``return_frac``
  = ``pnl_usd / notional_usd`` of the filled levels, ``bars_held`` = exit bar - first
  fill bar + 1.
* **Costs.** As the signal engine: ``slippage_bps`` moves every fill adversely (level fills
  too), ``fee_rate`` per side on each fill's notional, funding ``direction * rate * qty *
  open[i]`` on the quantity held across ``open[i]``.
* **Equity.** Cash plus the filled levels marked at the raw close.

Source of the rules: the grid runners of the Scalp Radar notes (``GridStrategyRunner``:
levels at SMA - k * ATR, take-profit on the return to the SMA, one global stop, a level is
touched when ``low <= level``), here with a stop frozen beyond the deepest level.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sixbtc.backtester import kernel_grid
from sixbtc.backtester.engine import (
    _check_prices,
    _daily_returns,
    _day_codes,
    _direction,
    _funding,
    _number,
    _price_array,
    _set_major,
    _window,
)
from sixbtc.backtester.metrics import GridResult, SingleResult, single_from_kernel

MAX_LEVELS = kernel_grid.MAX_LEVELS


def _grid_array(name: str, value: Any, n: int) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.dtype != np.float64 or value.ndim not in (1, 2):
        got = f"{value.dtype} array of shape {value.shape}" if isinstance(value, np.ndarray) \
            else type(value).__name__
        raise ValueError(f"{name} must be a float64 numpy array of shape (n_bars,) or (n_bars, n_params), got {got}")
    if value.shape[0] != n:
        raise ValueError(f"{name} has {value.shape[0]} bars, expected {n} (length of open_)")
    if value.ndim == 2 and value.shape[1] == 0:
        raise ValueError(f"{name} has 0 parameter columns")
    if np.isinf(value).any():
        raise ValueError(f"{name} has an infinite value (use NaN for 'no grid')")
    return _set_major(value.reshape(n, -1))


def _levels_array(levels: Any) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(levels))
    if arr.ndim != 1 or arr.shape[0] == 0 or arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"levels must be ints of shape (n_params,), got {levels!r}")
    if np.any(arr < 1) or np.any(arr > MAX_LEVELS):
        raise ValueError(f"levels must be in [1, {MAX_LEVELS}], got {arr}")
    return np.ascontiguousarray(arr, dtype=np.int64)


def _stop_array(sl_pct: Any) -> np.ndarray:
    try:
        arr = np.atleast_1d(np.asarray(sl_pct, dtype=np.float64))
    except (TypeError, ValueError):
        raise ValueError(f"sl_pct must be numbers (fractions), got {sl_pct!r}") from None
    if arr.ndim != 1 or arr.shape[0] == 0 or not np.all((arr > 0.0) & (arr <= 0.5)):
        raise ValueError(f"sl_pct must be fractions in (0, 0.5] of shape (n_params,), got {sl_pct!r}")
    return np.ascontiguousarray(arr)


def _prepare(open_, high, low, close, center, step, levels, sl_pct, *, direction, fee_rate, slippage_bps,
             funding_rate, position_frac, init_cash, start, end, bars_per_year) -> dict[str, Any]:
    """Check every argument; return the kernel keyword arguments (``levels``/``sl_pct`` broadcast)."""
    o = _price_array("open_", open_, None)
    n = o.shape[0]
    h, lo, c = (_price_array(nm, v, n) for nm, v in (("high", high), ("low", low), ("close", close)))
    start, end = _window(start, end, n)
    _check_prices(o, h, lo, c, start, end)
    funding = _funding(funding_rate, n, start, end)
    ctr, stp = _grid_array("center", center, n), _grid_array("step", step, n)
    lv, sl = _levels_array(levels), _stop_array(sl_pct)
    sizes = {ctr.shape[0], stp.shape[0], lv.shape[0], sl.shape[0]} - {1}
    if len(sizes) > 1:
        raise ValueError(f"n_params mismatch: center {ctr.shape[0]} and step {stp.shape[0]} columns, levels "
                         f"{lv.shape[0]}, sl_pct {sl.shape[0]} (each must be n_params or 1)")
    n_params = sizes.pop() if sizes else 1
    return dict(
        open_=o, high=h, low=lo, close=c, center=ctr, step=stp,
        levels=np.ascontiguousarray(np.broadcast_to(lv, (n_params,))),
        sl_pct=np.ascontiguousarray(np.broadcast_to(sl, (n_params,))),
        direction=_direction(direction), fee_rate=_number("fee_rate", fee_rate, 0.0, 0.1),
        slip=_number("slippage_bps", slippage_bps, 0.0, 1000.0) * 1e-4, funding=funding,
        position_frac=_number("position_frac", position_frac, 0.0, 1.0, low_open=True),
        init_cash=_number("init_cash", init_cash, 0.0, 1e15, low_open=True), start=start, end=end,
        bars_per_year=_number("bars_per_year", bars_per_year, 0.0, 1e9, low_open=True),
    )


def run_grid_levels(open_, high, low, close, center, step, levels, sl_pct, *, direction, fee_rate=0.00045,
                    slippage_bps=2.0, funding_rate=None, position_frac=1.0, init_cash=10_000.0, start=0,
                    end=None, bars_per_year=8760.0) -> GridResult:
    """Backtest many grid parameter sets on one OHLC series; return their metrics.

    Parameters
    ----------
    open_, high, low, close : numpy.ndarray
        float64 ``(n_bars,)``, prices in quote currency, no NaN inside the window.
    center, step : numpy.ndarray
        float64 ``(n_bars,)`` (shared) or ``(n_bars, n_params)``: the grid center (take-profit
        price) and the distance between adjacent levels (price units), known at each bar's
        close; NaN = no grid from that bar. Fortran order is read without a copy (as
        :func:`sixbtc.backtester.engine.run_grid`'s signals).
    levels : array_like of int
        ``(n_params,)`` or scalar, levels per grid in ``[1, MAX_LEVELS]``.
    sl_pct : array_like of float
        ``(n_params,)`` or scalar: global stop distance beyond the deepest level, fraction in
        ``(0, 0.5]``.
    direction : int or Direction
        +1 long (levels below the center), -1 short (above).
    fee_rate, slippage_bps, funding_rate, init_cash, start, end, bars_per_year
        As :func:`sixbtc.backtester.engine.run_grid`.
    position_frac : float
        Share of equity a full grid commits, in (0, 1] (each level ``position_frac / levels``).

    Returns
    -------
    GridResult
        Arrays of shape ``(n_params,)``; ``n_trades`` counts grid cycles.

    Raises
    ------
    ValueError
        Naming the argument: wrong type, dtype or shape, an infinite center/step, a NaN/inf
        or non-positive price or inconsistent high/low inside the window, a window outside
        ``[0, n_bars]``, ``levels`` outside ``[1, MAX_LEVELS]``, ``sl_pct`` outside ``(0, 0.5]``,
        mismatched ``n_params``.
    """
    kw = _prepare(open_, high, low, close, center, step, levels, sl_pct, direction=direction, fee_rate=fee_rate,
                  slippage_bps=slippage_bps, funding_rate=funding_rate, position_frac=position_frac,
                  init_cash=init_cash, start=start, end=end, bars_per_year=bars_per_year)
    return GridResult.from_kernel(kernel_grid.grid_levels_kernel(**kw))


def run_grid_levels_daily(open_, high, low, close, center, step, levels, sl_pct, *, day_of_bar, direction,
                          fee_rate=0.00045, slippage_bps=2.0, funding_rate=None, start=0, end=None,
                          bars_per_year=8760.0, init_cash=10_000.0) -> tuple[GridResult, np.ndarray, np.ndarray]:
    """:func:`run_grid_levels` (``position_frac=1``) that also returns every set's daily returns,
    as :func:`sixbtc.backtester.engine.run_grid_daily` does for signal strategies.

    Returns
    -------
    grid : GridResult
    daily_returns : numpy.ndarray
        float64 ``(n_days, n_params)``, fractions.
    days : numpy.ndarray
        int64 ``(n_days,)``.

    Raises
    ------
    ValueError
        As :func:`run_grid_levels`; if ``day_of_bar`` is not a non-decreasing int array of
        ``n_bars`` entries inside the window.
    """
    kw = _prepare(open_, high, low, close, center, step, levels, sl_pct, direction=direction, fee_rate=fee_rate,
                  slippage_bps=slippage_bps, funding_rate=funding_rate, position_frac=1.0,
                  init_cash=init_cash, start=start, end=end, bars_per_year=bars_per_year)
    code, n_days, window = _day_codes(day_of_bar, kw["open_"].shape[0], kw["start"], kw["end"])
    out, day_eq = kernel_grid.grid_levels_daily_kernel(day_of_bar=code, n_days=n_days, **kw)
    returns, days = _daily_returns(day_eq, kw["init_cash"], window)
    return GridResult.from_kernel(out), returns, days


def run_single_grid(open_, high, low, close, center, step, *, levels, sl_pct, direction, fee_rate=0.00045,
                    slippage_bps=2.0, funding_rate=None, position_frac=1.0, init_cash=10_000.0, start=0,
                    end=None, bars_per_year=8760.0) -> SingleResult:
    """Backtest one grid parameter set; return its trades (one per cycle), equity and metrics.

    Parameters are those of :func:`run_grid_levels` with ``center``/``step`` of one column and
    scalar ``levels``/``sl_pct``.

    Raises
    ------
    ValueError
        As :func:`run_grid_levels`, and when ``center``/``step`` has more than one column or
        ``levels``/``sl_pct`` is not a scalar.
    """
    if np.ndim(levels) != 0 or np.ndim(sl_pct) != 0:
        raise ValueError(f"levels and sl_pct must be scalars in run_single_grid, got {levels!r}, {sl_pct!r}")
    kw = _prepare(open_, high, low, close, center, step, levels, sl_pct, direction=direction, fee_rate=fee_rate,
                  slippage_bps=slippage_bps, funding_rate=funding_rate, position_frac=position_frac,
                  init_cash=init_cash, start=start, end=end, bars_per_year=bars_per_year)
    for name in ("center", "step"):
        if kw[name].shape[0] != 1:
            raise ValueError(f"{name} must have one column in run_single_grid, got {kw[name].shape[0]}")
    n_levels, sl = int(kw.pop("levels")[0]), float(kw.pop("sl_pct")[0])
    out, trades, equity = kernel_grid.single_grid_kernel(n_levels=n_levels, sl=sl, **kw)
    return single_from_kernel(out, trades, equity)
