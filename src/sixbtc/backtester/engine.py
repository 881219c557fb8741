"""Public API of the backtest engine: :func:`run_grid` and :func:`run_single`.

Both functions check their arguments and call the numba kernels of
:mod:`sixbtc.backtester.kernel`; they share one simulation routine, so the metrics of
:func:`run_single` equal the matching entry of :func:`run_grid` bit for bit.

Simulation semantics
--------------------
* **Window.** Only bars ``start <= i < end`` are simulated (half-open, absolute indices), so
  in-sample and out-of-sample runs use the same arrays without copies. Nothing at or after
  ``end`` is read (truncation invariance); signals on bar ``start - 1`` are ignored.
* **Signals.** A signal on bar ``i`` is known at its close and acts at ``open[i + 1]``.
  Flat and ``entries[i]`` and not ``exits[i]`` -> enter at ``open[i + 1]``. In a position
  and ``exits[i]`` -> exit at ``open[i + 1]`` (``SIGNAL``). Entries while in a position are
  ignored (no pyramiding); a position closed at an open does not re-enter on the same bar.
  There is no entry from a signal on bar ``end - 1`` (no next open inside the window).
* **Time limit.** With ``max_bars_held = m > 0`` a position entered at ``open[j]`` is
  closed at ``open[j + m]`` (``TIME_LIMIT``) unless it closed before; a pending exit signal
  at the same open wins (``SIGNAL``).
* **Stops, targets, liquidation** (checked on every bar the position is open, including the
  entry bar, after the open): levels are fractions of the entry *fill* price,
  long stop ``e * (1 - sl_pct)``, target ``e * (1 + tp_pct)`` (short mirrored); ``0`` or
  ``NaN`` disables a level. If the open already lies beyond the adverse level (or the
  target) the fill is at the open; else a level touched by low/high fills at the level; if
  the adverse level and the target are both touched in a bar, the adverse one is taken
  (conservative, as in SPEC 3.4).
* **Sizing** (entry notional in USD from the equity ``E`` = cash before the entry fee):
  ``sizing="equity_frac"`` (default): ``position_frac * E * leverage`` (``position_frac = 1``,
  ``leverage = 1``: all-in, compounding, 1x); ``"fixed_notional"``: ``notional_usd`` per
  trade; ``"risk"``: ``E * risk_per_trade / sl_pct`` so that a stop fill at the level loses
  ``risk_per_trade`` of equity before fees and slippage (fixed-fractional sizing, Van Tharp
  2007); ``sl_pct`` must then be > 0. The last two are capped at ``leverage * E``; every
  mode at ``max_notional_usd`` when given. One implementation for backtests, paper and
  live: :func:`sixbtc.domain.sizing.position_notional` (the executor's rule is
  ``risk.sizing`` of the configuration, see :func:`sizing_kwargs`).
* **Leverage and liquidation** (isolated margin):
  A long is liquidated when the price falls ``1 / leverage - 0.005`` (maintenance margin
  0.5 %) below the entry fill (short: rises). The liquidation level replaces the stop as the
  adverse level only when it is strictly closer than the stop (or there is no stop); its
  fill follows the same gap/touch rule (``LIQUIDATION``). There is no insurance-fund cap: a
  gap through the level can lose more than the margin. With equity <= 0 no new entries.
* **End of data.** A position still open after bar ``end - 1`` is closed at
  ``close[end - 1]`` (``END_OF_DATA``).
* **Costs.** ``slippage_bps`` (basis points, 1 bp = 0.0001) moves every fill adversely:
  buys at ``p * (1 + s)``, sells at ``p * (1 - s)`` (stop, target, liquidation and final
  close fills included). ``fee_rate`` (fraction of fill notional, per side; default
  0.00045 = Hyperliquid taker 0.045 %) is charged on entry and exit notional.
* **Funding.** ``funding_rate[i]`` is the rate settled at ``open[i]`` (0 on bars without a
  settlement). A position held across that open (entered on an earlier bar and not closed at
  that open by a signal or time limit) pays ``direction * rate * qty * open[i]``: a long
  pays a positive rate, a short receives it.
* **Equity.** Cash plus the open position marked at each bar's raw close; the per-bar
  returns of that series feed Sharpe and Sortino (see :mod:`sixbtc.backtester.metrics`).
* **Guarantee.** Before slippage, every fill price lies within its bar's ``[low, high]``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sixbtc.backtester import kernel
from sixbtc.backtester.metrics import GridResult, SingleResult, single_from_kernel
from sixbtc.domain.trading import Direction

MAX_LEVERAGE = 100.0
SIZING_MODES = {"equity_frac": kernel.SIZE_EQUITY_FRAC,
                "fixed_notional": kernel.SIZE_FIXED_NOTIONAL, "risk": kernel.SIZE_RISK}


def _price_array(name: str, value: Any, n: int | None) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.dtype != np.float64 or value.ndim != 1:
        got = f"{value.dtype} array of shape {value.shape}" if isinstance(value, np.ndarray) \
            else type(value).__name__
        raise ValueError(f"{name} must be a 1-D float64 numpy array, got {got}")
    if n is not None and value.shape[0] != n:
        raise ValueError(f"{name} has {value.shape[0]} bars, expected {n} (length of open_)")
    return _kernel_ready(value)


def _kernel_ready(value: np.ndarray) -> np.ndarray:
    """C-contiguous and writable (numba compiles a separate kernel for read-only arrays,
    e.g. those from pandas ``to_numpy()``; an O(n_bars) copy is cheaper than a compile)."""
    value = np.ascontiguousarray(value)
    return value if value.flags.writeable else value.copy()


_TRANSPOSE_BARS = 512  # bars per block of the transposing copy in _set_major


def _set_major(value: np.ndarray) -> np.ndarray:
    """The kernels' signal layout of a checked ``(n_bars, k)`` array: ``(k, n_bars)``
    C-contiguous and writable (one set's bars contiguous in memory).

    A view, no copy, when ``value`` is Fortran-ordered (e.g. ``sets_by_bars.T`` of signals
    built ``(k, n_bars)``); otherwise one transposing copy, in blocks of ``_TRANSPOSE_BARS``
    bars that stay in cache (2-4x faster than numpy's plain transposing copy of a
    ``(20,000, 1,000)`` array: 9-12 ms against 42 ms for bools). The same kernel reads the
    set-major layout faster than ``(n_bars, k)`` C arrays with their stride of ``k`` items per
    bar (``benchmarks/bench_kernel.py``, ``layout`` lines).
    """
    t = value.T
    if t.flags.c_contiguous:
        return t if t.flags.writeable else t.copy()
    out = np.empty(t.shape, dtype=t.dtype)
    for i in range(0, t.shape[1], _TRANSPOSE_BARS):
        out[:, i:i + _TRANSPOSE_BARS] = t[:, i:i + _TRANSPOSE_BARS]
    return out


def _check_prices(o, h, lo, c, start: int, end: int) -> None:
    for name, arr in (("open_", o), ("high", h), ("low", lo), ("close", c)):
        window = arr[start:end]
        if not np.all(np.isfinite(window)):
            bad = start + int(np.flatnonzero(~np.isfinite(window))[0])
            raise ValueError(f"{name} has a NaN/inf price at bar {bad}")
        if not np.all(window > 0.0):
            bad = start + int(np.flatnonzero(~(window > 0.0))[0])
            raise ValueError(f"{name} has a non-positive price at bar {bad}")
    s = slice(start, end)
    bad_bars = (h[s] < np.maximum(o[s], c[s])) | (lo[s] > np.minimum(o[s], c[s])) | (h[s] < lo[s])
    if bad_bars.any():
        bad = start + int(np.flatnonzero(bad_bars)[0])
        raise ValueError(f"high/low inconsistent with open/close at bar {bad} "
                         "(need low <= min(open, close) and high >= max(open, close))")


def _signal_array(name: str, value: Any, n: int) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.dtype != np.bool_ or value.ndim not in (1, 2):
        got = f"{value.dtype} array of shape {value.shape}" if isinstance(value, np.ndarray) \
            else type(value).__name__
        raise ValueError(f"{name} must be a bool numpy array of shape (n_bars,) or "
                         f"(n_bars, n_params), got {got}")
    if value.shape[0] != n:
        raise ValueError(f"{name} has {value.shape[0]} bars, expected {n} (length of open_)")
    if value.ndim == 2 and value.shape[1] == 0:
        raise ValueError(f"{name} has 0 parameter columns")
    return _set_major(value.reshape(n, -1))


def _fraction_array(name: str, value: Any) -> np.ndarray:
    try:
        arr = np.atleast_1d(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers (fractions), got {value!r}") from None
    if arr.ndim != 1 or arr.shape[0] == 0:
        raise ValueError(f"{name} must have shape (n_params,), got shape {arr.shape}")
    if np.any(arr < 0.0) or np.any(np.isinf(arr)):
        raise ValueError(f"{name} must be >= 0 and finite (0 or NaN disables), got {arr}")
    return np.ascontiguousarray(arr)


def _number(name: str, value: Any, low: float, high: float, low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a number, got {value!r}")
    v = float(value)
    ok_low = v > low if low_open else v >= low
    if not (math.isfinite(v) and ok_low and v <= high):
        bracket = "(" if low_open else "["
        raise ValueError(f"{name} must be in {bracket}{low}, {high}], got {value!r}")
    return v


def _direction(value: Any) -> int:
    if isinstance(value, Direction):
        return value.sign
    if isinstance(value, int | np.integer) and not isinstance(value, bool) and value in (1, -1):
        return int(value)
    raise ValueError(f"direction must be +1 (long), -1 (short) or a Direction, got {value!r}")


def _window(start: Any, end: Any, n: int) -> tuple[int, int]:
    end = n if end is None else end
    for name, v in (("start", start), ("end", end)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise ValueError(f"{name} must be an int bar index, got {v!r}")
    if not 0 <= start < end <= n:
        raise ValueError(f"start/end must satisfy 0 <= start < end <= n_bars={n}, "
                         f"got start={start}, end={end}")
    return int(start), int(end)


def _sizing(sizing: Any, position_frac: Any, notional_usd: Any,
            risk_per_trade: Any) -> tuple[int, float]:
    """Return the kernel ``(sizing code, size_value)`` of the sizing arguments."""
    if not isinstance(sizing, str) or sizing not in SIZING_MODES:
        raise ValueError(f"sizing must be one of {sorted(SIZING_MODES)}, got {sizing!r}")
    frac = _number("position_frac", position_frac, 0.0, 1.0, low_open=True)
    if sizing != "equity_frac" and frac != 1.0:
        raise ValueError(f"position_frac applies only to sizing='equity_frac', got "
                         f"position_frac={position_frac!r} with sizing={sizing!r}")
    params = {"fixed_notional": ("notional_usd", notional_usd, 1e15),
              "risk": ("risk_per_trade", risk_per_trade, 1.0)}
    for mode, (name, value, _) in params.items():
        if mode != sizing and value is not None:
            raise ValueError(f"{name} applies only to sizing={mode!r}, got sizing={sizing!r}")
    if sizing == "equity_frac":
        return kernel.SIZE_EQUITY_FRAC, frac
    name, value, high = params[sizing]
    if value is None:
        raise ValueError(f"sizing={sizing!r} needs {name}")
    return SIZING_MODES[sizing], _number(name, value, 0.0, high, low_open=True)


def _check_risk_stops(sizing: int, sl: np.ndarray) -> None:
    if sizing == kernel.SIZE_RISK and not np.all(sl > 0.0):
        raise ValueError(f"sizing='risk' needs every sl_pct > 0 (notional = equity * "
                         f"risk_per_trade / sl_pct), got sl_pct={sl}")


def _funding(funding_rate: Any, n: int, start: int, end: int) -> np.ndarray:
    """The checked ``funding_rate`` array, or an empty one for none."""
    if funding_rate is None:
        return np.empty(0)
    funding = _price_array("funding_rate", funding_rate, n)
    if not np.all(np.isfinite(funding[start:end])):
        raise ValueError("funding_rate has NaN/inf inside the window (use 0 for no settlement)")
    return funding


def _day_codes(day_of_bar: Any, n: int, start: int, end: int) -> tuple[np.ndarray, int, np.ndarray]:
    """``(code, n_days, window)``: day index in ``[0, n_days)`` of each window bar, and the
    window's ``day_of_bar`` values (int64)."""
    day = np.asarray(day_of_bar)
    if day.ndim != 1 or day.shape[0] != n or not np.issubdtype(day.dtype, np.integer):
        raise ValueError(f"day_of_bar must be an int array of shape ({n},), got {day.dtype} {day.shape}")
    window = day[start:end].astype(np.int64)
    if np.any(np.diff(window) < 0):
        raise ValueError("day_of_bar must be non-decreasing inside the window")
    code = np.concatenate(([0], np.cumsum(np.diff(window) != 0))).astype(np.int64)
    return code, int(code[-1]) + 1 if len(code) else 0, window


def _daily_returns(day_eq: np.ndarray, init_cash: float, window: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Daily returns ``(n_days, n_params)`` from end-of-day equity, and each row's day."""
    prev = np.vstack([np.full((1, day_eq.shape[1]), init_cash), day_eq[:-1]])
    returns = np.where(prev > 0, day_eq / np.where(prev > 0, prev, 1.0) - 1.0, 0.0)
    days = window[np.concatenate(([0], np.flatnonzero(np.diff(window)) + 1))] if len(window) else window
    return returns, days


def _prepare(open_, high, low, close, entries, exits, *, direction, fee_rate, slippage_bps,
             funding_rate, max_bars_held, position_frac, leverage, init_cash, start, end,
             bars_per_year, sizing, notional_usd, risk_per_trade, max_notional_usd=None) -> dict[str, Any]:
    """Check every argument; return the kernel keyword arguments (shared by both runs)."""
    o = _price_array("open_", open_, None)
    n = o.shape[0]
    h, lo, c = (_price_array(nm, v, n) for nm, v in (("high", high), ("low", low),
                                                      ("close", close)))
    start, end = _window(start, end, n)
    _check_prices(o, h, lo, c, start, end)
    funding = _funding(funding_rate, n, start, end)
    if isinstance(max_bars_held, bool) or not isinstance(max_bars_held, int | np.integer) \
            or max_bars_held < 0:
        raise ValueError(f"max_bars_held must be an int >= 0 (0 = off), got {max_bars_held!r}")
    size_code, size_value = _sizing(sizing, position_frac, notional_usd, risk_per_trade)
    return dict(
        open_=o, high=h, low=lo, close=c,
        entries=_signal_array("entries", entries, n), exits=_signal_array("exits", exits, n),
        direction=_direction(direction),
        fee_rate=_number("fee_rate", fee_rate, 0.0, 0.1),
        slip=_number("slippage_bps", slippage_bps, 0.0, 1000.0) * 1e-4,
        funding=funding, max_bars_held=int(max_bars_held),
        sizing=size_code, size_value=size_value,
        leverage=_number("leverage", leverage, 1.0, MAX_LEVERAGE),
        max_notional=math.inf if max_notional_usd is None else
        _number("max_notional_usd", max_notional_usd, 0.0, 1e15, low_open=True),
        init_cash=_number("init_cash", init_cash, 0.0, 1e15, low_open=True),
        start=start, end=end,
        bars_per_year=_number("bars_per_year", bars_per_year, 0.0, 1e9, low_open=True),
    )


def run_grid(open_, high, low, close, entries, exits, sl_pct, tp_pct, *, direction,
             fee_rate=0.00045, slippage_bps=2.0, funding_rate=None, max_bars_held=0,
             position_frac=1.0, leverage=1.0, init_cash=10_000.0, start=0, end=None,
             bars_per_year=8760.0, sizing="equity_frac", notional_usd=None,
             risk_per_trade=None, max_notional_usd=None) -> GridResult:
    """Backtest many parameter sets on one OHLC series; return their metrics.

    Parameters
    ----------
    open_, high, low, close : numpy.ndarray
        float64 ``(n_bars,)``, prices in quote currency, no NaN inside the window.
    entries, exits : numpy.ndarray
        bool ``(n_bars,)`` (shared by every parameter set) or ``(n_bars, n_params)``. Any
        memory order gives the same result; Fortran order (e.g. ``sets_by_bars.T`` of signals
        built ``(n_params, n_bars)``) is read without a copy, C order is transposed once.
    sl_pct, tp_pct : array_like
        float ``(n_params,)`` (or a scalar / length-1 array broadcast to all sets): stop-loss
        and take-profit distances as fractions of the entry fill price (0.02 = 2 %);
        0 or NaN disables.
    direction : int or Direction
        +1 long, -1 short.
    fee_rate : float
        Fee per side as a fraction of fill notional (0.00045 = 0.045 %).
    slippage_bps : float
        Adverse slippage of every fill in basis points.
    funding_rate : numpy.ndarray, optional
        float64 ``(n_bars,)``: rate settled at each bar's open (0 = none).
    max_bars_held : int
        Time-limit exit after this many bars (0 = off).
    position_frac, leverage : float
        Entry notional = ``position_frac * equity * leverage`` (``sizing="equity_frac"``;
        other modes need ``position_frac=1``); ``position_frac`` in (0, 1], ``leverage`` in
        [1, 100] (also the notional cap ``leverage * equity`` of the other modes).
    init_cash : float
        Starting equity in USD.
    start, end : int
        Half-open window of bar indices (``end=None`` -> ``n_bars``).
    bars_per_year : float
        Annualisation factor (8760 for 1h bars; see :func:`bars_per_year`).
    sizing : {"equity_frac", "fixed_notional", "risk"}
        Position sizing mode (module docstring, "Sizing").
    notional_usd : float, optional
        Entry notional in USD per trade; required by, and only allowed with,
        ``sizing="fixed_notional"``.
    risk_per_trade : float, optional
        Fraction of equity lost at the stop level (0.01 = 1 %), in (0, 1]; required by, and
        only allowed with, ``sizing="risk"``.
    max_notional_usd : float, optional
        Cap on every entry notional in USD (``risk.max_notional_usd`` of the executor's rule;
        None = no cap).

    Returns
    -------
    GridResult
        Arrays of shape ``(n_params,)``.

    Raises
    ------
    ValueError
        Naming the argument, for a wrong type, dtype, shape or value, a NaN/inf or
        non-positive price or inconsistent high/low inside the window, or a window outside
        ``[0, n_bars]``; for an unknown ``sizing``, a missing or misplaced ``notional_usd``
        / ``risk_per_trade``, or ``sizing="risk"`` with an ``sl_pct`` that is not > 0.
    """
    kw = _prepare(open_, high, low, close, entries, exits, direction=direction,
                  fee_rate=fee_rate, slippage_bps=slippage_bps, funding_rate=funding_rate,
                  max_bars_held=max_bars_held, position_frac=position_frac, leverage=leverage,
                  init_cash=init_cash, start=start, end=end, bars_per_year=bars_per_year,
                  sizing=sizing, notional_usd=notional_usd, risk_per_trade=risk_per_trade,
                  max_notional_usd=max_notional_usd)
    sl = _fraction_array("sl_pct", sl_pct)
    tp = _fraction_array("tp_pct", tp_pct)
    sizes = {sl.shape[0], tp.shape[0], kw["entries"].shape[0], kw["exits"].shape[0]} - {1}
    if len(sizes) > 1:
        raise ValueError(
            f"n_params mismatch: sl_pct {sl.shape[0]}, tp_pct {tp.shape[0]}, entries "
            f"{kw['entries'].shape[0]} and exits {kw['exits'].shape[0]} columns (each must be "
            "n_params or 1)")
    n_params = sizes.pop() if sizes else 1
    sl = np.ascontiguousarray(np.broadcast_to(sl, (n_params,)))
    tp = np.ascontiguousarray(np.broadcast_to(tp, (n_params,)))
    _check_risk_stops(kw["sizing"], sl)
    out = kernel.grid_kernel(sl_pct=sl, tp_pct=tp, **kw)
    return GridResult.from_kernel(out)


def run_single(open_, high, low, close, entries, exits, *, sl_pct, tp_pct, direction,
               fee_rate=0.00045, slippage_bps=2.0, funding_rate=None, max_bars_held=0,
               position_frac=1.0, leverage=1.0, init_cash=10_000.0, start=0, end=None,
               bars_per_year=8760.0, sizing="equity_frac", notional_usd=None,
               risk_per_trade=None, max_notional_usd=None) -> SingleResult:
    """Backtest one parameter set and return its trades, equity curve and metrics.

    Parameters are those of :func:`run_grid`, except that ``entries`` and ``exits`` are
    bool ``(n_bars,)`` (or ``(n_bars, 1)``) and ``sl_pct``, ``tp_pct`` are scalars
    (fractions; 0, NaN or None disables).

    Returns
    -------
    SingleResult
        ``trades`` (structured, :data:`~sixbtc.backtester.metrics.TRADE_DTYPE`),
        ``equity`` float64 ``(end - start,)`` in USD, and ``metrics``.

    Raises
    ------
    ValueError
        As :func:`run_grid`, and when a signal array has more than one column or
        ``sl_pct``/``tp_pct`` is not a scalar.
    """
    kw = _prepare(open_, high, low, close, entries, exits, direction=direction,
                  fee_rate=fee_rate, slippage_bps=slippage_bps, funding_rate=funding_rate,
                  max_bars_held=max_bars_held, position_frac=position_frac, leverage=leverage,
                  init_cash=init_cash, start=start, end=end, bars_per_year=bars_per_year,
                  sizing=sizing, notional_usd=notional_usd, risk_per_trade=risk_per_trade,
                  max_notional_usd=max_notional_usd)
    for name in ("entries", "exits"):
        if kw[name].shape[0] != 1:
            raise ValueError(f"{name} must have one column in run_single, "
                             f"got {kw[name].shape[0]}")
    levels = {}
    for name, value in (("sl_pct", sl_pct), ("tp_pct", tp_pct)):
        arr = _fraction_array(name, np.nan if value is None else value)
        if arr.shape[0] != 1 or np.ndim(value) > 1:
            raise ValueError(f"{name} must be a scalar in run_single, got {value!r}")
        levels[name] = float(arr[0])
    _check_risk_stops(kw["sizing"], np.array([levels["sl_pct"]]))
    out, trades, equity = kernel.single_kernel(sl=levels["sl_pct"], tp=levels["tp_pct"], **kw)
    return single_from_kernel(out, trades, equity)


def run_grid_daily(open_, high, low, close, entries, exits, sl_pct, tp_pct, *, day_of_bar, direction,
                   fee_rate=0.00045, slippage_bps=2.0, funding_rate=None, start=0, end=None,
                   bars_per_year=8760.0, init_cash=10_000.0, sizing="equity_frac", leverage=1.0,
                   risk_per_trade=None, max_notional_usd=None) -> tuple[GridResult, np.ndarray, np.ndarray]:
    """:func:`run_grid` (all-in 1x sizing by default) that also returns every set's **daily** returns.

    The daily aggregation happens inside the kernel (end-of-day equity per set), so memory is
    ``O(n_days * n_params)`` whatever the number of bars.

    Parameters
    ----------
    open_, high, low, close, entries, exits, sl_pct, tp_pct, direction, fee_rate, slippage_bps,
    funding_rate, start, end, bars_per_year, init_cash, sizing, leverage, risk_per_trade, max_notional_usd
        As in :func:`run_grid` (``sizing`` "equity_frac" with ``position_frac`` 1, or "risk").
    day_of_bar : numpy.ndarray
        int ``(n_bars,)``: the UTC day of each bar (e.g. days since 1970-01-01), non-decreasing.

    Returns
    -------
    grid : GridResult
        Metrics over ``[start, end)``, shape ``(n_params,)`` each (identical to :func:`run_grid`).
    daily_returns : numpy.ndarray
        float64 ``(n_days, n_params)``: simple return (fraction) of each set's equity from the
        previous day's last close (``init_cash`` before the first day) to this day's last close,
        oldest day first. A day partly inside the window counts its in-window bars only.
    days : numpy.ndarray
        int64 ``(n_days,)``: the ``day_of_bar`` value of each row.

    Raises
    ------
    ValueError
        As :func:`run_grid`; if ``day_of_bar`` is not an integer array of ``n_bars`` entries
        that never decreases inside the window.
    """
    kw = _prepare(open_, high, low, close, entries, exits, direction=direction, fee_rate=fee_rate,
                  slippage_bps=slippage_bps, funding_rate=funding_rate, max_bars_held=0, position_frac=1.0,
                  leverage=leverage, init_cash=init_cash, start=start, end=end, bars_per_year=bars_per_year,
                  sizing=sizing, notional_usd=None, risk_per_trade=risk_per_trade,
                  max_notional_usd=max_notional_usd)
    code, n_days, window = _day_codes(day_of_bar, kw["open_"].shape[0], kw["start"], kw["end"])
    sl = _fraction_array("sl_pct", sl_pct)
    tp = _fraction_array("tp_pct", tp_pct)
    if sl.shape != tp.shape or kw["entries"].shape[0] not in (1, sl.shape[0]):
        raise ValueError(f"n_params mismatch: sl_pct {sl.shape[0]}, tp_pct {tp.shape[0]}, entries "
                         f"{kw['entries'].shape[0]} columns")
    _check_risk_stops(kw["sizing"], sl)
    out, day_eq = kernel.grid_daily_kernel(sl_pct=sl, tp_pct=tp, day_of_bar=code, n_days=n_days, **kw)
    returns, days = _daily_returns(day_eq, kw["init_cash"], window)
    return GridResult.from_kernel(out), returns, days
