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

**Whole history** (``backtest.wfa_span: history``, :func:`walk_forward_history`): the
assigned timeframe's coins are loaded from the start of their stored history up to
``oos_end`` (the confirmation and replay days excluded), and rolling folds of the protocol's
own proportions — training ``is_days``, test ``oos_days`` — cover that span, the last test
segment ending at ``oos_end``; each fold's bar bounds are found per coin from its UTC days,
so the coins' folds share calendar days and a fold's test return is the equal-weight mean
over the coins (the pooled portfolio). The folds then span several market regimes, not one
window: a rule that only rode one regime fails its consistency.

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


def _fold(coins: list[CoinSeries], f: int, k: int, candidates: list[int], min_trades: int,
          bounds: list[tuple[int, int, int]] | None = None) -> FoldResult:
    """One fold; ``bounds`` (per coin) given = history folds, whose training is as long as
    the protocol's IS window, so the trade floor is ``min_trades`` itself."""
    c0 = coins[0]
    if bounds is None:
        bounds = [fold_bounds(c.i_is, c.n_bars, k)[f] for c in coins]
        floor = math.ceil(min_trades * (bounds[0][1] - bounds[0][0]) / max(1, c0.i_oos - c0.i_is))
    else:
        floor = min_trades
    train = [c.grid(candidates, b[0], b[1]) for c, b in zip(coins, bounds, strict=True)]
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
    return _summary([_fold(coins, f, k, candidates, min_trades) for f in range(k)], len(candidates), len(coins))


def history_day_bounds(first_day: int, end_day: int, train_days: int, test_days: int) -> list[tuple[int, int, int]]:
    """Rolling folds ``(train_start, test_start, test_end)`` in UTC days over ``[first_day, end_day)``,
    the last test ending at ``end_day``, as many as fit.

    Raises
    ------
    ValueError
        If a length is not positive or not one fold fits.
    """
    if train_days < 1 or test_days < 1:
        raise ValueError(f"walk-forward folds need positive lengths, got train {train_days}, test {test_days} days")
    n = (end_day - first_day - train_days) // test_days
    if n < 1:
        raise ValueError(f"walk-forward: {end_day - first_day} days hold no fold of {train_days} + {test_days} days")
    return [(end_day - (n - f) * test_days - train_days, end_day - (n - f) * test_days,
             end_day - (n - f - 1) * test_days) for f in range(n)]


def walk_forward_history(coins: list[CoinSeries], candidates: list[int], train_days: int, test_days: int,
                         min_trades: int) -> WalkForward:
    """Rolling folds over the coins' whole loaded span (see the module notes).

    Parameters
    ----------
    coins : list of CoinSeries
        Coins of one timeframe whose ``i_is`` is the start of the common history and
        ``i_oos`` the start of the protocol's OOS window (for the trade floor's scale).
    candidates : list of int
        Parameter-set indices to choose from in each fold.
    train_days, test_days : int
        Fold lengths (the protocol's IS and OOS days).
    min_trades : int
        Trade floor (all coins) of each fold's training part, as long as the IS window.

    Returns
    -------
    WalkForward
        ``trials`` = (candidates + 1) × coins × folds simulations.

    Raises
    ------
    ValueError
        If ``coins`` or ``candidates`` is empty, or the span holds no fold.
    """
    if not coins or not candidates:
        raise ValueError("walk-forward needs at least one coin and one candidate parameter set")
    first = max(int(c.days[c.i_is]) for c in coins)
    end = min(int(c.days[c.n_bars - 1]) for c in coins) + 1
    days = history_day_bounds(first, end, train_days, test_days)
    folds = []
    for f, d in enumerate(days):
        bounds = [tuple(int(np.searchsorted(c.days, x)) for x in d) for c in coins]
        bounds = [(max(b[0], c.i_is), b[1], min(b[2], c.n_bars)) for b, c in zip(bounds, coins, strict=True)]
        folds.append(_fold(coins, f, len(days), candidates, min_trades, bounds))
    return _summary(folds, len(candidates), len(coins))


def _summary(folds: list[FoldResult], n_candidates: int, n_coins: int) -> WalkForward:
    train = float(np.mean([fr.train_sharpe for fr in folds]))
    test = float(np.mean([fr.test_sharpe for fr in folds]))
    efficiency = test / train if np.isfinite(train) and train > 0 else 0.0
    consistency = float(np.mean([fr.test_return > 0 for fr in folds]))
    return WalkForward(folds, efficiency, consistency, (n_candidates + 1) * n_coins * len(folds))
