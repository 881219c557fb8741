"""Monte Carlo band of backtest trades: is a live track record plausible under the backtest? (SPEC §5)

After ``n`` live trades, the band is the distribution of what ``n`` trades drawn from the
backtest's out-of-sample trades would have produced: ``paths`` bootstrap resamples (draws
with replacement, so both the order and the mix of trades vary — a plain permutation of all
backtest trades would always give the same total). Per path:

* cumulative return = **sum** of the per-trade net returns (fractions of notional; additive,
  not compounded — the same convention on both sides, since per-trade returns are on the
  notional, not on the account);
* max drawdown = largest fall of that running sum from its running peak (starting at 0), in
  the same additive return units.

A live record is outside the band when its cumulative return is below the ``percentile``-th
percentile of the simulated ones, or its drawdown is above the ``100 - percentile``-th
percentile of the simulated drawdowns (Monte Carlo trade resampling as in the "Monte Carlo
analysis" of Pardo, *The Evaluation and Optimization of Trading Strategies*, 2nd ed. 2008,
ch. 9; percentiles with numpy's linear interpolation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class McBand:
    """Band for ``n_trades`` live trades: the two thresholds, in additive return units (fractions)."""

    n_trades: int
    percentile: float
    lower_return: float
    upper_drawdown: float


def path_stats(returns: np.ndarray) -> tuple[float, float]:
    """Cumulative return (sum) and additive max drawdown of a trade sequence.

    Parameters
    ----------
    returns : numpy.ndarray, shape (n_trades,)
        Net per-trade returns (fractions), in exit order.

    Returns
    -------
    tuple of (float, float)
        ``(sum(returns), max_t(peak_t - cum_t))`` with ``cum`` the running sum from 0.
    """
    cum = np.concatenate([[0.0], np.cumsum(np.asarray(returns, dtype=np.float64))])
    return float(cum[-1]), float((np.maximum.accumulate(cum) - cum).max())


def simulate_band(trade_returns: np.ndarray, n_trades: int, *, paths: int, percentile: float,
                  seed: int) -> McBand:
    """Bootstrap ``paths`` sequences of ``n_trades`` backtest trades and return the band.

    Parameters
    ----------
    trade_returns : numpy.ndarray, shape (n_backtest_trades,)
        Net out-of-sample per-trade returns of the backtest (fractions), >= 2 values.
    n_trades : int
        Live trades to compare with (>= 1).
    paths : int
        Number of simulated paths (>= 1); memory is ``paths x n_trades`` floats.
    percentile : float
        Band percentile in percent, in (0, 50).
    seed : int
        Seed of :func:`numpy.random.default_rng` (the same seed gives the same band).

    Returns
    -------
    McBand

    Raises
    ------
    ValueError
        If an argument is out of range or ``trade_returns`` holds NaN/inf.
    """
    r = np.asarray(trade_returns, dtype=np.float64)
    if r.ndim != 1 or r.size < 2:
        raise ValueError(f"trade_returns must be 1-D with >= 2 trades, got shape {r.shape}")
    if not np.isfinite(r).all():
        raise ValueError("trade_returns contains NaN or infinite values")
    if n_trades < 1 or paths < 1:
        raise ValueError(f"n_trades and paths must be >= 1, got {n_trades} and {paths}")
    if not 0.0 < percentile < 50.0:
        raise ValueError(f"percentile must be in (0, 50) percent, got {percentile}")
    sims = r[np.random.default_rng(seed).integers(0, r.size, size=(paths, n_trades))]
    cum = np.concatenate([np.zeros((paths, 1)), np.cumsum(sims, axis=1)], axis=1)
    drawdown = (np.maximum.accumulate(cum, axis=1) - cum).max(axis=1)
    return McBand(n_trades, float(percentile), float(np.percentile(cum[:, -1], percentile)),
                  float(np.percentile(drawdown, 100.0 - percentile)))


def band_breach(live_returns: np.ndarray, band: McBand) -> str | None:
    """Why ``live_returns`` leave ``band``, or None when inside.

    Raises
    ------
    ValueError
        If the number of live trades differs from ``band.n_trades``.
    """
    r = np.asarray(live_returns, dtype=np.float64)
    if r.size != band.n_trades:
        raise ValueError(f"band is for {band.n_trades} trades, got {r.size} live trades")
    total, drawdown = path_stats(r)
    if total < band.lower_return:
        return (f"cumulative return {total:.2%} after {r.size} trades < P{band.percentile:g} "
                f"{band.lower_return:.2%} of backtest resamples")
    if drawdown > band.upper_drawdown:
        return (f"drawdown {drawdown:.2%} after {r.size} trades > P{100 - band.percentile:g} "
                f"{band.upper_drawdown:.2%} of backtest resamples")
    return None


@dataclass(frozen=True)
class BandCheck:
    """The band check of a track record: ``breach`` (None when inside or not checked), the
    thresholds stored in ``metrics["live"]`` (``mc_lower_return``, ``mc_upper_drawdown``;
    empty when not simulated) and ``notes`` saying why it was skipped."""

    breach: str | None
    figures: dict[str, float]
    notes: tuple[str, ...]


def check_band(live_returns: np.ndarray, trade_returns: np.ndarray, *, paths: int, percentile: float,
               min_trades: int, seed: int) -> BandCheck:
    """Compare a live record with its Monte Carlo band (SPEC §5), once it has ``min_trades`` trades.

    ``paths`` 0 turns the band off; a backtest the band cannot be built from (fewer than 2
    trades, NaN) skips it. Either way a note says so. See :func:`simulate_band` for the other
    parameters.
    """
    if paths == 0:
        return BandCheck(None, {}, ("Monte Carlo band off (mc_paths 0)",))
    n = int(np.asarray(live_returns).size)
    if n < min_trades:
        return BandCheck(None, {}, ())
    try:
        band = simulate_band(trade_returns, n, paths=paths, percentile=percentile, seed=seed)
    except ValueError as exc:
        return BandCheck(None, {}, (f"Monte Carlo band skipped: {exc}",))
    return BandCheck(band_breach(live_returns, band),
                     {"mc_lower_return": band.lower_return, "mc_upper_drawdown": band.upper_drawdown}, ())
