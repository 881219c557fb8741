"""Walk-forward analysis (WFA) of the first backtest and the re-test.

Rolling folds over the whole IS+OOS span ``[is_start, oos_end)`` (Pardo, "The Evaluation and
Optimization of Trading Strategies", 2nd ed., ch. 11): with ``k`` folds the span of ``S`` bars
is cut into test segments of ``T = S // (k + 2)`` bars and a training length of
``S - k * T`` (about ``2 T``, the 120:60 IS:OOS ratio); fold ``f`` trains on
``[s + f T, s + f T + train)`` and tests on the ``T`` bars right after, so the last test
segment ends exactly at ``oos_end``. Train and test never overlap within a fold and nothing
at or after ``oos_end`` is read. Rolling (not anchored) so every fold trains on equally much
recent data, like the re-test does.

In each fold the best candidate (mean training Sharpe across coins, with ``min_trades``
scaled to the training length as trade floor) is chosen on the training part from the
signals already computed, then traded on the test part. Reported: per-fold test Sharpe and
return, **WFA efficiency** = mean test Sharpe / mean training Sharpe of the chosen sets
(Pardo's walk-forward efficiency uses annualised profit; Sharpe is already annualised and
insensitive to compounding; 0 when the training Sharpe is not positive) and
**consistency** = share of folds with a positive mean test return.

Note: the candidates are the survivors of the in-sample search, so the first folds' test
segments lie inside the window that pruned them; WFA here measures the stability of the
choice over time, while the untouched OOS window and the shuffle test guard against luck.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sixbtc.backtester.coinset import CoinSeries
from sixbtc.backtester.search import rank_sets


@dataclass(frozen=True)
class FoldResult:
    """One fold: chosen parameter set (index into the sampled list), its mean training
    Sharpe, mean test Sharpe, mean test total return (fraction) and total test trades."""

    index: int
    chosen: int
    train_sharpe: float
    test_sharpe: float
    test_return: float
    test_trades: int

    def to_json(self) -> dict[str, float | int]:
        """Plain JSON-serialisable dict."""
        return {"fold": self.index, "chosen": self.chosen, "train_sharpe": round(self.train_sharpe, 6),
                "test_sharpe": round(self.test_sharpe, 6), "test_return": round(self.test_return, 8),
                "test_trades": self.test_trades}


@dataclass(frozen=True)
class WalkForward:
    """All folds with the WFA efficiency and consistency (fractions) and trials run."""

    folds: list[FoldResult]
    efficiency: float
    consistency: float
    trials: int


def fold_bounds(start: int, end: int, k: int) -> list[tuple[int, int, int]]:
    """Rolling folds ``(train_start, train_end = test_start, test_end)`` over bars ``[start, end)``.

    Raises
    ------
    ValueError
        If ``k < 1`` or the span has fewer than ``k + 2`` bars.
    """
    if k < 1:
        raise ValueError(f"walk-forward needs at least 1 fold, got {k}")
    span = end - start
    test = span // (k + 2)
    if test < 1:
        raise ValueError(f"walk-forward: {span} bars are too few for {k} folds (need >= {k + 2})")
    train = span - k * test
    return [(start + f * test, start + f * test + train, start + f * test + train + test) for f in range(k)]


def _fold(coins: list[CoinSeries], f: int, k: int, candidates: list[int], min_trades: int) -> FoldResult:
    bounds = [fold_bounds(c.i_is, c.n_bars, k)[f] for c in coins]
    train = [c.grid(candidates, b[0], b[1]) for c, b in zip(coins, bounds, strict=True)]
    c0 = coins[0]
    floor = math.ceil(min_trades * (bounds[0][1] - bounds[0][0]) / max(1, c0.i_oos - c0.i_is))
    sharpe, _, order = rank_sets(train, floor)
    pos = int(order[0])
    test = [c.grid([candidates[pos]], b[1], b[2]) for c, b in zip(coins, bounds, strict=True)]
    return FoldResult(f, candidates[pos], float(np.nan_to_num(sharpe[pos], neginf=0.0)),
                      float(np.nan_to_num(np.mean([g.sharpe[0] for g in test]))),
                      float(np.mean([g.total_return[0] for g in test])), int(sum(g.n_trades[0] for g in test)))


def walk_forward(coins: list[CoinSeries], candidates: list[int], k: int, min_trades: int) -> WalkForward:
    """Run ``k`` rolling folds over each coin's ``[i_is, n_bars)``.

    Parameters
    ----------
    coins : list of CoinSeries
        Coins of one timeframe (non-empty).
    candidates : list of int
        Parameter-set indices to choose from in each fold (one index = fixed parameters,
        as in the re-test).
    k : int
        Number of folds.
    min_trades : int
        In-sample trade floor, scaled to the training length.

    Returns
    -------
    WalkForward
        ``trials`` = (candidates + 1) × coins × folds simulations.

    Raises
    ------
    ValueError
        If ``coins`` or ``candidates`` is empty, or the span is too short for ``k`` folds.
    """
    if not coins or not candidates:
        raise ValueError("walk-forward needs at least one coin and one candidate parameter set")
    folds = [_fold(coins, f, k, candidates, min_trades) for f in range(k)]
    train = float(np.mean([fr.train_sharpe for fr in folds]))
    test = float(np.mean([fr.test_sharpe for fr in folds]))
    efficiency = test / train if np.isfinite(train) and train > 0 else 0.0
    consistency = float(np.mean([fr.test_return > 0 for fr in folds]))
    return WalkForward(folds, efficiency, consistency, (len(candidates) + 1) * len(coins) * k)
