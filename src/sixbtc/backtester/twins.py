"""Twins: a strategy judged against its own signals shifted in time.

A strategy's result on a window (a confirmation window, days held out of the whole
factory) says little on its own: a market that fell 30 % rewards every short. Its **twins**
answer "is the *timing* worth anything?": each twin trades the strategy's own entry and exit
signals, fixed parameters, stops and targets, on the same coins and window, circularly
shifted in time by ``k`` bars inside the window (bar ``start + i`` of the twin carries the
signal of bar ``start + (i - k) mod L``, ``L`` = bars in the window), with

* the **same shift on every coin** (cross-coin timing and the market exposure of the
  strategy as a whole are kept: all coins' signals move together);
* ``k`` at least ``min_shift`` bars from 0 *circularly* (``min_shift <= k <= L - min_shift``;
  a shift of ``L - 1`` bars would be the strategy moved back one bar), by default
  :data:`MIN_SHIFT_DAYS` days;
* the number, order and spacing of the signals unchanged, the same direction, stops and
  targets. Trade counts match exactly only where signals alone end trades; with stops and
  targets they differ where those end trades at other times (a trend rule that rides its
  trends holds longer, so trades less, than its twins). :attr:`WindowResult.twin_trades`
  shows it.

The strategy's **twin percentile** is ``100 * (#twins with a lower return + ½ #twins with
an equal return) / #twins`` (mid-rank: equals the share of twins with a lower return when
there are no ties; 50 when nothing traded). A rule with no timing edge lands anywhere
between 0 and 100 (uniformly, on average 50); a real edge lands high. This is the
circular-shift form of the Monte Carlo permutation test of a rule's positions against the
market's returns (Aronson, *Evidence-Based Technical Analysis*, 2006, ch. 5): a circular
shift keeps the signal's own structure (counts, run lengths, spacing) where a permutation
of positions destroys it. Reference: issue 9 of the project ("Measure it", confirmation
window).

Returns are those of the project's engine (:func:`~sixbtc.backtester.engine.run_grid`,
all-in 1x per coin, fees, slippage and funding of the coin series): per coin the window's
total return; the strategy's (and each twin's) return is the equal-weight mean over its
coins (equal capital per coin, no rebalancing).

A pool of strategies is judged the same way (:func:`portfolio_twins`): twin portfolio ``t``
holds twin ``t`` of every member, so when the members' shifts are the *same time offset*
(shifts drawn once, in units of a bar length every member's timeframe divides, and
converted with :func:`shifts_in_bars`) the co-movement of the members is kept as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sixbtc.backtester.coinset import CoinSeries, sizing_kwargs
from sixbtc.backtester.engine import run_grid
from sixbtc.backtester.engine_grid import run_grid_levels
from sixbtc.backtester.metrics import DAYS_PER_YEAR
from sixbtc.backtester.trials import pool_daily

#: Twins per strategy (issue 9: 200).
N_TWINS = 200
#: Smallest circular shift of a twin, in days (issue 9: at least 3 days).
MIN_SHIFT_DAYS = 3.0


def draw_shifts(span: int, min_shift: int, n_twins: int = N_TWINS, seed: int = 0) -> np.ndarray:
    """Distinct circular shifts ``k`` with ``min_shift <= k <= span - min_shift``.

    Parameters
    ----------
    span : int
        Length of the window in shift units (bars, or a coarser unit that the caller
        converts with :func:`shifts_in_bars`).
    min_shift : int
        Smallest circular distance from 0 (units, >= 1).
    n_twins : int
        Shifts wanted (>= 1). When the window admits fewer distinct shifts, every
        admissible shift is returned (fewer twins, none repeated).
    seed : int
        Seed of the draw (uniform, without replacement).

    Returns
    -------
    numpy.ndarray
        int64 ``(min(n_twins, span - 2 * min_shift + 1),)``, ascending.

    Raises
    ------
    ValueError
        If ``min_shift < 1``, ``n_twins < 1`` or ``span < 2 * min_shift`` (no admissible shift).
    """
    if min_shift < 1 or n_twins < 1:
        raise ValueError(f"draw_shifts needs min_shift >= 1 and n_twins >= 1, got {min_shift}, {n_twins}")
    admissible = np.arange(min_shift, span - min_shift + 1, dtype=np.int64)
    if len(admissible) == 0:
        raise ValueError(f"a window of {span} units admits no circular shift of at least {min_shift} units "
                         f"(needs span >= {2 * min_shift})")
    if len(admissible) <= n_twins:
        return admissible
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(admissible, size=n_twins, replace=False))


def shifts_in_bars(shifts: np.ndarray, unit_ms: int, timeframe_ms: int) -> np.ndarray:
    """Shifts drawn in units of ``unit_ms`` expressed in bars of ``timeframe_ms``.

    Returns
    -------
    numpy.ndarray
        int64, same shape as ``shifts``: ``shifts * unit_ms // timeframe_ms``.

    Raises
    ------
    ValueError
        If ``unit_ms`` is not a positive multiple of ``timeframe_ms`` (the same time shift
        would not fall on the timeframe's bar grid).
    """
    if timeframe_ms <= 0 or unit_ms <= 0 or unit_ms % timeframe_ms:
        raise ValueError(f"shift unit {unit_ms} ms is not a positive multiple of the bar length {timeframe_ms} ms")
    return np.asarray(shifts, dtype=np.int64) * (unit_ms // timeframe_ms)


def shift_signals(signal: np.ndarray, start: int, shifts: np.ndarray) -> np.ndarray:
    """One column per shift: bars ``[start, n_bars)`` of ``signal`` rotated forward circularly.

    Parameters
    ----------
    signal : numpy.ndarray
        bool ``(n_bars,)``.
    start : int
        First bar of the window (bars before it, the warm-up, are copied unchanged).
    shifts : numpy.ndarray
        int ``(n_twins,)``, each in ``[0, n_bars - start)``.

    Returns
    -------
    numpy.ndarray
        bool ``(n_bars, n_twins)``, Fortran-ordered (each twin's bars contiguous, the layout the
        engine reads without a copy): column ``t`` at bar ``start + i`` holds
        ``signal[start + (i - shifts[t]) mod L]``, ``L = n_bars - start``.

    Raises
    ------
    ValueError
        If ``signal`` is not 1-D bool, ``start`` is outside ``[0, n_bars)`` or a shift is
        outside ``[0, L)``.
    """
    signal = np.asarray(signal)
    if signal.ndim != 1 or signal.dtype != np.bool_:
        raise ValueError(f"signal must be a 1-D bool array, got {signal.dtype} {signal.shape}")
    n = signal.shape[0]
    if not 0 <= start < n:
        raise ValueError(f"start must be in [0, {n}), got {start}")
    span = n - start
    k = np.asarray(shifts, dtype=np.int64).reshape(-1)
    if np.any((k < 0) | (k >= span)):
        raise ValueError(f"shifts must be in [0, {span}) bars (the window), got {k.min()}..{k.max()}")
    out = np.empty((len(k), n), dtype=np.bool_)
    out[:, :start] = signal[:start]
    out[:, start:] = signal[start + (np.arange(span)[None, :] - k[:, None]) % span]
    return out.T


def twin_percentile(actual: float, twins: np.ndarray) -> float:
    """Mid-rank percentile (0-100) of ``actual`` among ``twins``.

    ``100 * (#twins < actual + 0.5 * #twins == actual) / #twins``; NaN when ``actual`` is
    NaN or ``twins`` is empty.
    """
    t = np.asarray(twins, dtype=np.float64).reshape(-1)
    if len(t) == 0 or not np.isfinite(actual):
        return float("nan")
    return float(100.0 * (np.sum(t < actual) + 0.5 * np.sum(t == actual)) / len(t))


@dataclass(frozen=True)
class WindowResult:
    """A fixed parameter set traded on a window, and its twins.

    Attributes
    ----------
    symbols : tuple of str
        ``n_coins`` coins.
    coin_returns : numpy.ndarray
        float64 ``(n_coins,)``: total return (fraction) of each coin over the window.
    coin_trades : numpy.ndarray
        int64 ``(n_coins,)``: trades per coin.
    daily_returns : numpy.ndarray
        float64 ``(n_days,)``: equal-weight daily returns of the coins (fractions).
    shifts : numpy.ndarray
        int64 ``(n_twins,)``: each twin's shift in bars.
    twin_coin_returns : numpy.ndarray
        float64 ``(n_coins, n_twins)``: total return of each twin on each coin.
    twin_trades : numpy.ndarray
        int64 ``(n_twins,)``: trades of each twin over all coins.
    """

    symbols: tuple[str, ...]
    coin_returns: np.ndarray = field(repr=False)
    coin_trades: np.ndarray = field(repr=False)
    daily_returns: np.ndarray = field(repr=False)
    shifts: np.ndarray = field(repr=False)
    twin_coin_returns: np.ndarray = field(repr=False)
    twin_trades: np.ndarray = field(repr=False)

    @property
    def total_return(self) -> float:
        """Equal-weight mean of the coins' total returns (equal capital, no rebalancing)."""
        return float(np.mean(self.coin_returns))

    @property
    def n_trades(self) -> int:
        """Trades over all coins."""
        return int(np.sum(self.coin_trades))

    @property
    def sharpe(self) -> float:
        """Annualised Sharpe of :attr:`daily_returns` (``sqrt(365)``, ddof 1); NaN if flat or < 2 days."""
        r = self.daily_returns
        sd = float(np.std(r, ddof=1)) if len(r) > 1 else 0.0
        return float(np.mean(r) / sd * np.sqrt(DAYS_PER_YEAR)) if sd > 0 else float("nan")

    @property
    def twin_returns(self) -> np.ndarray:
        """float64 ``(n_twins,)``: each twin's equal-weight return over the coins."""
        return self.twin_coin_returns.mean(axis=0)

    @property
    def percentile(self) -> float:
        """Twin percentile of :attr:`total_return` (:func:`twin_percentile`)."""
        return twin_percentile(self.total_return, self.twin_returns)

    def to_json(self) -> dict[str, object]:
        """Plain figures: return, Sharpe, trades, twin percentile, twins and their median / trades."""
        def num(x: float) -> float | None:
            return round(float(x), 6) if np.isfinite(x) else None
        return {"total_return": num(self.total_return), "sharpe": num(self.sharpe), "n_trades": self.n_trades,
                "twin_percentile": num(self.percentile), "n_twins": int(len(self.shifts)),
                "twin_median_return": num(float(np.median(self.twin_returns))) if len(self.shifts) else None,
                "twin_mean_trades": num(float(np.mean(self.twin_trades))) if len(self.shifts) else None,
                "symbols": list(self.symbols)}


def _coin_twins(c: CoinSeries, j: int, shifts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Total returns and trades ``(n_twins,)`` of the shifted signals of set ``j`` on ``c``."""
    entries, exits = c.signals_of(j)
    p, d = c.params(j), c.data
    if entries.dtype == np.float64:
        return _grid_twins(c, j, shifts)
    g = run_grid(d["open"], d["high"], d["low"], d["close"], shift_signals(entries, c.i_oos, shifts),
                 shift_signals(exits, c.i_oos, shifts), float(p["sl_pct"]), float(p["tp_pct"]),
                 direction=c.direction, fee_rate=c.costs[0], slippage_bps=c.costs[1], funding_rate=c.funding,
                 start=c.i_oos, end=c.n_bars, bars_per_year=c.bars_per_year, **sizing_kwargs(c.costs))
    return g.total_return, g.n_trades


def _grid_twins(c: CoinSeries, j: int, shifts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Twins of a grid strategy (GRD): its center and step *relative to the close* shifted in
    time (twin ``center[i] = close[i] * (center / close)[i - k]``), so a twin places the same
    grid shapes at other times around the price it then meets."""
    center, step = c.signals_of(j)
    d, n, start = c.data, c.n_bars, c.i_oos
    span = n - start
    k = np.asarray(shifts, dtype=np.int64).reshape(-1)
    src = start + (np.arange(span)[None, :] - k[:, None]) % span
    close = d["close"]
    twin = []
    for arr in (center, step):  # built (n_twins, n_bars): the engine reads the transpose without a copy
        out = np.empty((len(k), n))
        out[:, :start] = arr[:start]
        out[:, start:] = close[start:] * (arr / close)[src]
        twin.append(out.T)
    p = c.params(j)
    g = run_grid_levels(d["open"], d["high"], d["low"], d["close"], twin[0], twin[1], int(p["levels"]),
                        float(p["sl_pct"]), direction=c.direction, fee_rate=c.costs[0], slippage_bps=c.costs[1],
                        funding_rate=c.funding, start=start, end=n, bars_per_year=c.bars_per_year)
    return g.total_return, g.n_trades


def evaluate_window(coins: list[CoinSeries], j: int, shifts: np.ndarray) -> WindowResult:
    """Trade parameter set ``j`` on each coin's window ``[i_oos, n_bars)``, and its twins.

    Parameters
    ----------
    coins : list of CoinSeries
        The coins (one timeframe; load them with the window as their out-of-sample span,
        e.g. ``load_series(..., (start, start, end), warmup_bars, [params], ...)``). The
        strategy's signals are computed once per coin on warm-up + window (its signal
        source, e.g. the sandbox) and re-used by every twin.
    j : int
        Index of the parameter set in the coins' parameter list (with ``sl_pct``/``tp_pct``).
    shifts : numpy.ndarray
        int ``(n_twins,)`` circular shifts in bars, the same on every coin (e.g. from
        :func:`draw_shifts` with ``span`` = the window's bars); each must lie in
        ``[1, L)`` for every coin's window length ``L``.

    Returns
    -------
    WindowResult

    Raises
    ------
    ValueError
        If ``coins`` is empty or a shift does not fit a coin's window (the message names
        the coin).
    """
    if not coins:
        raise ValueError("evaluate_window needs at least one coin")
    k = np.asarray(shifts, dtype=np.int64).reshape(-1)
    for c in coins:
        span = c.n_bars - c.i_oos
        if len(k) and (k.min() < 1 or k.max() >= span):
            raise ValueError(f"{c.symbol}: shifts {k.min()}..{k.max()} do not fit its window of {span} bars")
    returns, trades, parts, twin_ret, twin_trades = [], [], [], [], np.zeros(len(k), dtype=np.int64)
    for c in coins:
        g, daily, days = c.daily([j], c.i_oos, c.n_bars)
        returns.append(float(g.total_return[0]))
        trades.append(int(g.n_trades[0]))
        parts.append((daily, days))
        if len(k):
            r, n = _coin_twins(c, j, k)
            twin_ret.append(r)
            twin_trades += n
    pooled, _ = pool_daily(parts)
    twin = np.asarray(twin_ret, dtype=np.float64) if len(k) else np.zeros((len(coins), 0))
    return WindowResult(tuple(c.symbol for c in coins), np.asarray(returns), np.asarray(trades, dtype=np.int64),
                        pooled[:, 0], k, twin, twin_trades)


def portfolio_twins(member_returns: np.ndarray, member_twin_returns: np.ndarray) -> tuple[float, np.ndarray, float]:
    """Equal-weight portfolio of several strategies against the portfolios of their twins.

    Parameters
    ----------
    member_returns : numpy.ndarray
        float ``(n_members,)``: each member's return on the window (fraction).
    member_twin_returns : numpy.ndarray
        float ``(n_members, n_twins)``: row ``m`` = member ``m``'s twin returns; column ``t``
        must be the same shift (time offset) for every member.

    Returns
    -------
    portfolio_return : float
        Mean of ``member_returns`` (equal capital per member, no rebalancing).
    twin_portfolio_returns : numpy.ndarray
        float64 ``(n_twins,)``: twin portfolio ``t`` = mean of the members' twin ``t``.
    percentile : float
        :func:`twin_percentile` of the portfolio among the twin portfolios.

    Raises
    ------
    ValueError
        If there is no member or the shapes disagree.
    """
    r = np.asarray(member_returns, dtype=np.float64).reshape(-1)
    t = np.asarray(member_twin_returns, dtype=np.float64)
    if len(r) == 0 or t.ndim != 2 or t.shape[0] != len(r):
        raise ValueError(f"portfolio_twins needs (n_members,) and (n_members, n_twins) arrays, got {r.shape}, {t.shape}")
    twins = t.mean(axis=0)
    value = float(r.mean())
    return value, twins, twin_percentile(value, twins)
