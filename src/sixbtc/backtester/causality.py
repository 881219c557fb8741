"""Causality of the chosen parameter set on the data the backtest actually uses (issue 8).

The validator's look-ahead tests run on a few samples; code can behave honestly there and
read the future only on the backtest's series (gated on their length, price level, volume
scale, volatility, …). So the protocol checks the strategy on *its own* data too: for every
coin of the assigned timeframe, the chosen set's signals on the full loaded series
(``[is_start - warm-up, oos_end)``, the ones every simulation used) are compared with the
signals computed on the series cut at ``cuts_per_coin`` points (truncated there, or with
the price path after the cut reflected). A causal strategy's signal at
bar ``i`` depends only on bars ``<= i``, so both must agree on every bar before the cut;
the first difference rejects the strategy (``backtest:lookahead``, or ``retest:lookahead``).

Cuts (bars kept) lie in the traded span ``[i_is + 1, n_bars - 1]`` and are drawn per coin
from a generator seeded by ``(seed, coin position)`` (reproducible):

* the first right after a bar where the full-series signals fire (where a peek at the next
  bars shows). There the bars after the cut are not dropped: the price path after it is
  **reflected** (:func:`sixbtc.strategy.permutation.reflect_bars`: same length, every later
  move reversed, prices on the same tick grid), so the cut is not the input's last bar and
  a peek there sees the opposite future. Code that keeps its honest trigger on the last bar
  of its input and peeks everywhere else agreed with a truncated series exactly where it
  fired (it passed 13 of 20 seeds of the truncation-only check);
* the others uniformly, truncated (a gate on the series length switches off below some
  length; a cut there shows the whole difference).

Cost: ``cuts_per_coin`` signal calls per coin with one parameter set (measured in
``benchmarks/bench_protocol.py``).

Source: the "recompute on a prefix" check of M. López de Prado, *Advances in Financial
Machine Learning* (2018), ch. 7, and freqtrade's ``lookahead-analysis``, here on the
backtest's own series.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sixbtc.backtester.coinset import CoinSeries
from sixbtc.strategy.permutation import reflect_bars
from sixbtc.strategy.signal_pairs import active_bars, pair_differs


@dataclass(frozen=True)
class CausalityFinding:
    """Where the signals of a cut series differ from the full series'.

    Attributes
    ----------
    symbol, timeframe : str
    cut : int
        Bars kept (the cut series is bars ``[0, cut)`` of the loaded series).
    bar : int
        First differing bar (0-based index into the loaded series, ``< cut``).
    params : dict
        The chosen parameter set.
    reflected : bool
        The price path after the cut was reflected (``True``) rather than dropped.
    """

    symbol: str
    timeframe: str
    cut: int
    bar: int
    params: dict[str, Any]
    reflected: bool = False

    def describe(self) -> str:
        """One line for the rejection's detail."""
        how = "the prices after it reflected" if self.reflected else "there"
        return (f"{self.symbol} {self.timeframe}: signals on the series cut at {self.cut} bars ({how}) differ from "
                f"the full series at bar {self.bar} (params {self.params})")


@dataclass(frozen=True)
class CausalityCheck:
    """Outcome and cost of :func:`check_causality`.

    Attributes
    ----------
    finding : CausalityFinding or None
        The first difference, ``None`` when every cut agrees.
    cuts : list of (str, int)
        ``(symbol, cut)`` pairs checked, in order.
    calls : int
        Signal calls made (one per cut).
    seconds : float
        Wall time spent (s).
    """

    finding: CausalityFinding | None
    cuts: list[tuple[str, int]] = field(default_factory=list)
    calls: int = 0
    seconds: float = 0.0


def choose_cuts(entries: np.ndarray, exits: np.ndarray, lo: int, count: int,
                rng: np.random.Generator) -> list[tuple[int, bool]]:
    """``count`` distinct cuts (bars kept) in ``[lo, n_bars - 1]``, sorted, each with whether
    the price path after it is reflected (``True``) or dropped.

    Parameters
    ----------
    entries, exits : numpy.ndarray
        bool ``(n_bars,)`` full-series signals.
    lo : int
        Smallest cut, ``1 <= lo <= n_bars - 1``.
    count : int
        Cuts wanted (>= 1); fewer when the range is smaller.
    rng : numpy.random.Generator

    Returns
    -------
    list of (int, bool)
        The first drawn is ``j + 1`` for a random signal bar ``j`` (when one fires in
        ``[lo - 1, n_bars - 2]``), reflected after; the rest uniform, truncated.

    Raises
    ------
    ValueError
        If ``lo`` is out of range or ``count < 1``.
    """
    n = len(entries)
    if count < 1 or not 1 <= lo <= n - 1:
        raise ValueError(f"need count >= 1 and 1 <= lo <= {n - 1}, got count={count}, lo={lo}")
    fired = np.flatnonzero(active_bars((entries[lo - 1 : n - 1], exits[lo - 1 : n - 1]))) + lo
    cuts: dict[int, bool] = {int(rng.choice(fired)): True} if len(fired) else {}
    room = n - lo
    while len(cuts) < min(count, room):
        cuts.setdefault(int(rng.integers(lo, n)), False)
    return sorted(cuts.items())


def _first_difference(full: tuple[np.ndarray, np.ndarray], probe: tuple[np.ndarray, np.ndarray],
                      cut: int) -> int | None:
    diff = pair_differs((full[0][:cut], full[1][:cut]), (probe[0][:cut], probe[1][:cut]))
    return int(diff.argmax()) if diff.any() else None


def check_causality(series: list[CoinSeries], j: int, timeframe: str, cuts_per_coin: int,
                    seed: int) -> CausalityCheck:
    """Compare the full-series and cut-series signals of parameter set ``j`` on every coin.

    Parameters
    ----------
    series : list of CoinSeries
        The assigned timeframe's coins (their cached full-series signals are reused).
    j : int
        Index of the chosen parameter set in the sampled list.
    timeframe : str
        For the finding's detail.
    cuts_per_coin : int
        Cuts per coin (>= 1).
    seed : int
        Seeds the cut positions (with the coin's position in ``series``).

    Returns
    -------
    CausalityCheck
        Stops at the first coin and cut that differ.

    Raises
    ------
    StrategyRejected
        From the signal source (the strategy fails on a cut series).
    """
    t0 = time.perf_counter()
    checked: list[tuple[str, int]] = []
    for pos, s in enumerate(series):
        full = s.signals_of(j)
        lo = min(max(s.i_is, 1) + 1, s.n_bars - 1)
        rng = np.random.default_rng([seed, pos])
        for cut, reflected in choose_cuts(full[0], full[1], lo, cuts_per_coin, rng):
            checked.append((s.symbol, cut))
            probe = s.signals_on(j, reflect_bars(s.data, cut)) if reflected else s.prefix_signals(j, cut)
            bar = _first_difference(full, probe, cut)
            if bar is not None:
                finding = CausalityFinding(s.symbol, timeframe, cut, bar, s.params(j), reflected)
                return CausalityCheck(finding, checked, len(checked), time.perf_counter() - t0)
    return CausalityCheck(None, checked, len(checked), time.perf_counter() - t0)
