"""IS→OOS degradation of a strategy's edge, balanced for its direction (``backtest:degradation``).

The gate compares the Sharpe ratio a strategy earned in sample with the one it earns out of
sample: ``(SR_is - SR_oos) / |SR_is|`` (a fraction; 1.0 when ``SR_is <= 0``, nothing to keep),
rejected above ``backtest.max_degradation`` (Pardo, *The Evaluation and Optimization of
Trading Strategies*, 2nd ed., ch. 11: walk-forward efficiency as the share of in-sample
performance kept out of sample).

Which Sharpe ratio (``backtest.degradation_basis``):

* ``excess`` (default): of the daily **excess over holding the strategy's direction** on the
  same coins, matched to its exposure and position size (:mod:`~sixbtc.backtester.benchmark`;
  ``r - e·k·b``, the information ratio against the hold), in each window with that
  window's own exposure. A long strategy whose in-sample window was a bull market and whose
  out-of-sample window a crash loses Sharpe whatever its rule: the market's drift changed
  sign, not its timing. Net of the matched hold, the drift of either window cancels, so the
  gate compares the rule's edge with itself — long and short strategies alike, whichever
  regime each window happens to be (the detrending of Aronson, *Evidence-Based Technical
  Analysis*, 2006, ch. 1). It is not looser: a strategy whose in-sample Sharpe came from
  riding the drift has an in-sample excess Sharpe ≤ 0 and is rejected here (degradation 1).
* ``return``: of the strategy's own daily returns (the gate before; kept for comparison).

Both ratios are the equal-weight portfolio's of the coins' daily returns
(:mod:`~sixbtc.backtester.pooled`), in-sample from the track record (one simulation over
IS+OOS), out-of-sample from the OOS runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sixbtc.backtester.benchmark import excess_over_hold, window_hold
from sixbtc.backtester.coinset import CoinSeries

#: Accepted values of ``backtest.degradation_basis``.
BASES = ("excess", "return")


def sharpe_degradation(is_sharpe: float, oos_sharpe: float) -> float:
    """``(is_sharpe - oos_sharpe) / |is_sharpe|`` (fraction), 1.0 when ``is_sharpe <= 0``."""
    return (is_sharpe - oos_sharpe) / abs(is_sharpe) if is_sharpe > 0 else 1.0


def degradation_figures(basis: str, track: tuple[np.ndarray, np.ndarray, int], sharpes: tuple[float, float],
                        oos_excess_sharpe: float, series: Sequence[CoinSeries], is_exposure: float,
                        size: float) -> dict[str, float | str]:
    """The degradation gate's figures of one choice.

    Parameters
    ----------
    basis : str
        ``"excess"`` or ``"return"`` (module notes).
    track : tuple
        :func:`~sixbtc.backtester.protocol.track_record` of the choice: pooled daily returns
        (fractions), their UTC days (int64) and the position of the first OOS day.
    sharpes : tuple of float
        The pooled in-sample and out-of-sample Sharpe ratios of the strategy's own returns.
    oos_excess_sharpe : float
        The out-of-sample ``excess_sharpe`` of :func:`~sixbtc.backtester.benchmark.excess_over_hold`.
    series : sequence of CoinSeries
        The choice's coins (their in-sample bars give the in-sample hold).
    is_exposure : float
        Mean share of in-sample coin-bars in a position, in [0, 1].
    size : float
        Entry notional as a fraction of equity (:func:`~sixbtc.backtester.sizeable.size_fraction`).

    Returns
    -------
    dict
        ``basis``, ``is_sharpe``, ``oos_sharpe`` (of that basis) and ``degradation`` (fraction).

    Raises
    ------
    ValueError
        If ``basis`` is unknown, or as :func:`~sixbtc.backtester.benchmark.window_hold`.
    """
    if basis not in BASES:
        raise ValueError(f"backtest.degradation_basis must be one of {BASES}, got {basis!r}")
    if basis == "return":
        is_sr, oos_sr = sharpes
    else:
        r, days, first_oos = track
        hold, hold_days = window_hold(series, oos=False)
        is_sr = excess_over_hold(r[:first_oos], days[:first_oos], hold, hold_days,
                                 min(1.0, max(0.0, is_exposure)), size)["excess_sharpe"]
        oos_sr = oos_excess_sharpe
    return {"basis": basis, "is_sharpe": float(is_sr), "oos_sharpe": float(oos_sr),
            "degradation": float(sharpe_degradation(is_sr, oos_sr))}


def describe(figures: dict[str, float | str], limit: float, passed: bool) -> str:
    """One line of the gate's figures, e.g. ``IS excess Sharpe 1.20 -> OOS 0.90 (25% <= 60%)``."""
    label = "excess Sharpe" if figures["basis"] == "excess" else "Sharpe"
    sign = "<=" if passed else ">"
    return (f"IS {label} {figures['is_sharpe']:.2f} -> OOS {figures['oos_sharpe']:.2f} "
            f"({figures['degradation']:.0%} {sign} {limit:.0%})")
