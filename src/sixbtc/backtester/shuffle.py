"""Shuffle test: does the strategy beat the same rules on permuted prices?

Monte Carlo permutation test (Aronson, "Evidence-Based Technical Analysis", 2006, ch. 5;
Masters, "Permutation and Randomization Tests for Trading System Development", 2020): the
out-of-sample bars ``[oos_start, oos_end)`` of a few coins are permuted as whole bar shapes
(:func:`sixbtc.strategy.permutation.permute_data`; warm-up and in-sample bars are left as
they are, funding stays on its timestamps), the strategy's signals are recomputed on each
permuted path with the chosen parameters, and the same window is backtested. The pooled
metric is the mean OOS Sharpe over the coins (NaN, e.g. no trades, counts as 0), and

    p-value = (1 + #{permutations with pooled metric >= actual}) / (1 + n_permutations),

the standard unbiased Monte Carlo p-value (Phipson & Smyth 2010). A small p-value says the
result depends on the order of the bars, i.e. on structure the rules exploit, not on the
distribution of returns alone (e.g. a drift any long strategy would catch).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sixbtc.backtester.coinset import CoinSeries, simulate_one
from sixbtc.backtester.ports import SignalSource
from sixbtc.strategy.permutation import permute_data


@dataclass(frozen=True)
class ShuffleResult:
    """Actual pooled OOS Sharpe, the permutation p-value, and what reproduces it."""

    actual: float
    pvalue: float
    n_permutations: int
    seed: int
    symbols: list[str]
    simulations: int

    def to_json(self) -> dict[str, object]:
        """Plain JSON-serialisable dict."""
        return {"actual_sharpe": round(self.actual, 6), "pvalue": round(self.pvalue, 6),
                "n_permutations": self.n_permutations, "seed": self.seed, "symbols": self.symbols}


def _oos_sharpe(c: CoinSeries, data: dict[str, np.ndarray], signals: SignalSource, j: int) -> float:
    entries, exits = signals.signals(data, [c.params(j)])
    res = simulate_one(data, entries[0], exits[0], c.params(j), c.funding, c.i_oos, c.n_bars, c.direction,
                       c.costs, c.bars_per_year)
    return float(np.nan_to_num(res.metrics.sharpe))


def shuffle_test(coins: list[CoinSeries], signals: SignalSource, j: int, n_permutations: int,
                 seed: int) -> ShuffleResult:
    """Permutation p-value of parameter set ``j`` on the OOS windows of ``coins``.

    Parameters
    ----------
    coins : list of CoinSeries
        Coins to pool (non-empty; a few suffice).
    signals : SignalSource
        The strategy (already loaded), called once per coin and permutation.
    j : int
        Index of the chosen parameter set.
    n_permutations : int
        Number of permuted paths per coin (>= 1).
    seed : int
        Seed of the permutations (stored with the result to reproduce it).

    Returns
    -------
    ShuffleResult
        ``simulations`` = ``(1 + n_permutations) * len(coins)``.

    Raises
    ------
    ValueError
        If ``coins`` is empty or ``n_permutations < 1``.
    """
    if not coins or n_permutations < 1:
        raise ValueError(f"shuffle test needs coins and n_permutations >= 1, got {len(coins)} coins, "
                         f"{n_permutations} permutations")
    actual = float(np.mean([np.nan_to_num(c.single(j, c.i_oos, c.n_bars).metrics.sharpe) for c in coins]))
    rng = np.random.default_rng(seed)
    beaten = 0
    for _ in range(n_permutations):
        pooled = np.mean([_oos_sharpe(c, permute_data(c.data, c.i_oos, rng), signals, j) for c in coins])
        beaten += int(pooled >= actual)
    return ShuffleResult(actual, (1 + beaten) / (1 + n_permutations), n_permutations, seed,
                         [c.symbol for c in coins], (1 + n_permutations) * len(coins))
