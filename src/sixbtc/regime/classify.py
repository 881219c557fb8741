"""Regime of a coin from a breakout test and a reversal test (Unger method, SPEC §3.1).

A. Unger (*The Unger Method*, 2018) classifies a market by which of two deliberately simple
systems makes money on it: a **breakout** test (buy when the close breaks above the previous
``N`` bars' highest high, sell short when it breaks below their lowest low) and a
**reversal** test (fade the same breaks: sell the upper break, buy the lower one). Both exit
after a fixed ``hold_bars`` bars, with no stop or target, so that only the direction of the
follow-through is measured. The reversal test trades the same bars in the opposite
direction, so its gross result is about the negative of the breakout test's; after costs,
which both pay, at most one of them is profitable. Hence:

* ``TREND`` when the breakout test's net return exceeds ``min_edge`` (and the reversal's);
* ``REVERSAL`` when the reversal test's does;
* ``MIXED`` when neither does (the breaks' follow-through is smaller than the costs), or
  when the window holds fewer than :data:`MIN_TRADES` breakout trades.

Both metrics are net returns over the window as fractions of a fixed notional (long and
short legs added), computed by the project's engine through the :class:`LegRunner` port.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from sixbtc.domain.regime import MarketRegime
from sixbtc.regime.ports import LegRunner
from sixbtc.regime.probes import break_signals

#: Fewer breakout trades than this in the window -> MIXED (too little evidence either way).
MIN_TRADES = 10


@dataclass(frozen=True)
class RegimeTests:
    """Outcome of :func:`measure_regime`: the regime, both net returns (fractions of the
    notional) and the breakout test's trade count."""

    regime: MarketRegime
    breakout_metric: float
    reversal_metric: float
    n_trades: int


def classify(breakout: float, reversal: float, min_edge: float = 0.0, n_trades: int = MIN_TRADES) -> MarketRegime:
    """Regime from the two tests' net returns (module docstring).

    Parameters
    ----------
    breakout, reversal : float
        Net returns over the window, fractions of the notional.
    min_edge : float
        A test counts as profitable only above this (fraction, ``>= 0``).
    n_trades : int
        Breakout trades in the window; below :data:`MIN_TRADES` the answer is MIXED.

    Raises
    ------
    ValueError
        If a metric is NaN or ``min_edge < 0``.
    """
    if not (np.isfinite(breakout) and np.isfinite(reversal)):
        raise ValueError(f"breakout and reversal must be finite, got {breakout!r}, {reversal!r}")
    if not min_edge >= 0:
        raise ValueError(f"min_edge must be >= 0, got {min_edge!r}")
    if n_trades < MIN_TRADES:
        return MarketRegime.MIXED
    if breakout > min_edge and breakout > reversal:
        return MarketRegime.TREND
    if reversal > min_edge and reversal > breakout:
        return MarketRegime.REVERSAL
    return MarketRegime.MIXED


def measure_regime(ohlc: Mapping[str, np.ndarray], run: LegRunner, *, breakout_bars: int, hold_bars: int,
                   start: int = 0, min_edge: float = 0.0) -> RegimeTests:
    """Run both tests on bars ``[start, n_bars)`` of ``ohlc`` and classify.

    Parameters
    ----------
    ohlc : mapping
        float64 ``open high low close`` arrays of shape ``(n_bars,)``; bars before ``start``
        are history for the first ranges only (no trade acts there).
    run : LegRunner
        The engine, one call per direction of each test (four calls).
    breakout_bars, hold_bars : int
        ``N`` of the N-bar range and the fixed holding period in bars.
    start : int
        First bar of the tested window.
    min_edge : float
        See :func:`classify`.

    Returns
    -------
    RegimeTests

    Raises
    ------
    ValueError
        If a key is missing, or from :func:`break_signals` / the runner.
    """
    missing = [k for k in ("open", "high", "low", "close") if k not in ohlc]
    if missing:
        raise ValueError(f"ohlc lacks {missing}")
    up, down = break_signals(ohlc["high"], ohlc["low"], ohlc["close"], breakout_bars)
    bo_long, n1 = run(ohlc, up, 1, hold_bars, start)
    bo_short, n2 = run(ohlc, down, -1, hold_bars, start)
    rev_short, _ = run(ohlc, up, -1, hold_bars, start)
    rev_long, _ = run(ohlc, down, 1, hold_bars, start)
    breakout, reversal = bo_long + bo_short, rev_short + rev_long
    return RegimeTests(classify(breakout, reversal, min_edge, n1 + n2), breakout, reversal, n1 + n2)
