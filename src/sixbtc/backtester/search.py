"""Parameter search of the first backtest: successive halving over coins (in-sample only).

Exhaustive grids do not scale (1,000 sets × 30 coins × 4 timeframes per strategy), so the
search screens cheaply first and evaluates only survivors in full. This is successive
halving (Jamieson & Talwalkar 2016, "Non-stochastic Best Arm Identification and
Hyperparameter Optimization"; Li et al. 2018, "Hyperband") with *coins* as the budget:

* rung 0: every sampled parameter set on the ``screen_coins`` first (most liquid) coins;
* rung ``r``: the best ``ceil(n / eta**r)`` sets on ``screen_coins * eta**r`` coins;
* the last rung (at most ``rungs - 1`` halvings, or sooner when a rung already uses every
  coin or keeps one set): the survivors on every coin; the chosen set is the one with the
  best mean in-sample Sharpe whose in-sample trades over all coins reach ``min_trades``.

Ranking inside a rung is by mean IS Sharpe across the rung's coins; sets below the rung's
trade floor (``min_trades`` scaled by the rung's share of coins, rounded up) rank after
every set above it. Out-of-sample data is never looked at. ``rungs = 1`` is the plain
exhaustive grid. Every (parameter set, coin) simulation of the IS window is one trial.

With ``method="optuna"`` and the strategy's whole grid (:func:`search`), rung 0 is screened by
TPE instead (:mod:`~sixbtc.backtester.tpe`): its ``optuna_trials`` proposals are the sampled
list, and the halving goes on from rung 1 on them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sixbtc.backtester.coinset import CoinSeries
from sixbtc.backtester.grid_jobs import LocalGridRunner
from sixbtc.backtester.metrics import GridResult
from sixbtc.backtester.ports import GridRunner
from sixbtc.backtester.tpe import grid_count, tpe_screen
from sixbtc.backtester.trials import GridReturns, RungTrials, pool_daily

#: Search methods of :class:`SearchConfig`.
METHODS = ("halving", "optuna")


@dataclass(frozen=True)
class SearchConfig:
    """Search settings: successive halving's ``rungs >= 1``, ``eta >= 2``, ``screen_coins >= 1``;
    ``method`` ``"halving"`` (rung 0 = the sampled list) or ``"optuna"`` (rung 0 = ``optuna_trials
    >= 1`` TPE proposals of the whole grid, when :func:`search` is given one).

    Raises
    ------
    ValueError
        If a value is out of range.
    """

    rungs: int = 3
    eta: int = 3
    screen_coins: int = 3
    method: str = "halving"
    optuna_trials: int = 64

    def __post_init__(self) -> None:
        if self.rungs < 1 or self.eta < 2 or self.screen_coins < 1:
            raise ValueError(f"search needs rungs >= 1, eta >= 2, screen_coins >= 1; got rungs={self.rungs}, "
                             f"eta={self.eta}, screen_coins={self.screen_coins}")
        if self.method not in METHODS or self.optuna_trials < 1:
            raise ValueError(f"search method must be one of {METHODS} and optuna_trials >= 1; got "
                             f"method={self.method!r}, optuna_trials={self.optuna_trials}")


@dataclass(frozen=True)
class SearchResult:
    """Outcome of the search on one timeframe.

    ``chosen`` indexes the sampled parameter list; ``survivors`` are the final rung's sets
    (the walk-forward candidates); ``is_results`` the final rung's per-coin IS metrics over
    ``survivors`` (shape ``(len(survivors),)`` each); ``rungs`` the (sets, coins) per rung.
    """

    chosen: int
    survivors: list[int]
    is_sharpe: float
    is_results: list[GridResult]
    trials: int
    rungs: list[tuple[int, int]]
    ledger: list[RungTrials] = field(default_factory=list)
    screen_returns: GridReturns | None = None


def rung_plan(n_params: int, n_coins: int, cfg: SearchConfig) -> list[tuple[int, int]]:
    """(parameter sets, coins) evaluated at each rung; the last rung uses all ``n_coins``.

    Raises
    ------
    ValueError
        If ``n_params`` or ``n_coins`` is < 1.
    """
    if n_params < 1 or n_coins < 1:
        raise ValueError(f"rung_plan needs n_params >= 1 and n_coins >= 1, got {n_params}, {n_coins}")
    plan: list[tuple[int, int]] = []
    for r in range(cfg.rungs - 1):
        sets, coins = math.ceil(n_params / cfg.eta ** r), min(n_coins, cfg.screen_coins * cfg.eta ** r)
        if coins >= n_coins or sets <= 1:
            break
        plan.append((sets, coins))
    plan.append((math.ceil(n_params / cfg.eta ** len(plan)), n_coins))
    return plan


def rung_floor(min_trades: int, n_coins: int, total_coins: int) -> int:
    """IS trade floor of a rung on ``n_coins`` of ``total_coins`` coins: ``min_trades`` scaled
    by the rung's share of coins, rounded up (``min_trades`` itself on all coins)."""
    return min_trades if n_coins >= total_coins else math.ceil(min_trades * n_coins / total_coins)


def rank_sets(results: list[GridResult], floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rank parameter sets by their metrics on several coins.

    Parameters
    ----------
    results : list of GridResult
        One per coin, each over the same ``n_sets`` parameter sets.
    floor : float
        Trades (summed over coins) a set needs to rank among the eligible ones.

    Returns
    -------
    sharpe, trades, order : numpy.ndarray
        ``(n_sets,)``: mean Sharpe across coins (NaN -> -inf), total trades, and the set
        positions best first (eligible before ineligible, then Sharpe descending, then
        position ascending, so ties are deterministic).
    """
    sharpe = np.nan_to_num(np.mean([g.sharpe for g in results], axis=0), nan=-np.inf)
    trades = np.sum([g.n_trades for g in results], axis=0)
    ok = trades >= floor
    order = np.lexsort((np.arange(len(sharpe)), -sharpe, ~ok))  # eligible first, then Sharpe desc
    return sharpe, trades, order


def _rung_trials(r: int, candidates: list[int], used: list[CoinSeries], results: list[GridResult]) -> RungTrials:
    def stack(name: str) -> np.ndarray:
        return np.stack([getattr(g, name) for g in results], axis=1).astype(np.float32)
    return RungTrials(r, np.asarray(candidates, dtype=np.int64), [c.symbol for c in used], stack("sharpe"),
                      stack("total_return"), stack("n_trades"))


def screen_grid_returns(used: list[CoinSeries], candidates: list[int]) -> GridReturns:
    """Daily returns of ``candidates`` on ``used`` over IS+OOS, pooled equal-weight over coins."""
    pooled, days = pool_daily([c.daily(candidates, c.i_is, c.n_bars)[1:] for c in used])
    return GridReturns(pooled, days, np.asarray(candidates, dtype=np.int64))


def search(coins: list[CoinSeries], params: list[dict[str, Any]], min_trades: int, cfg: SearchConfig, *,
           space: dict[str, list[Any]] | None = None, seed: int = 0,
           screen_returns: bool = False, runner: GridRunner | None = None) -> SearchResult | None:
    """Search one timeframe: successive halving over ``params``, or, with ``cfg.method ==
    "optuna"`` and ``space`` (the whole grid), TPE proposals screened on rung 0 first.

    Parameters
    ----------
    coins : list of CoinSeries
        Loaded with ``params`` as their parameter list (most liquid first).
    params : list of dict
        The sampled sets; with TPE it must be empty and receives the proposals (in place).
    min_trades, cfg, screen_returns, runner
        As :func:`successive_halving`.
    space : dict of str to list or None
        The strategy's grid for TPE; None (or ``cfg.method == "halving"``) searches ``params``.
    seed : int
        TPE sampler seed.

    Returns
    -------
    SearchResult or None
        As :func:`successive_halving`.
    """
    if space is None or cfg.method != "optuna":
        return successive_halving(coins, len(params), min_trades, cfg, screen_returns=screen_returns, runner=runner)
    want = min(cfg.optuna_trials, grid_count(space))
    n_screen = rung_plan(want, len(coins), cfg)[0][1]
    first = tpe_screen(coins[:n_screen], space, params, want, rung_floor(min_trades, n_screen, len(coins)), seed)
    return successive_halving(coins, len(params), min_trades, cfg, screen_returns=screen_returns, first_rung=first,
                              runner=runner)


def successive_halving(coins: list[CoinSeries], n_params: int, min_trades: int,
                       cfg: SearchConfig, *, screen_returns: bool = False,
                       first_rung: list[GridResult] | None = None,
                       runner: GridRunner | None = None) -> SearchResult | None:
    """Search the ``n_params`` sets over ``coins`` (most liquid first) on their IS windows.

    With ``screen_returns`` the rung-0 sets are also traded over IS+OOS on the rung's coins
    (daily returns kept for the PBO matrix; never used for ranking). ``first_rung`` are rung
    0's IS metrics already simulated (TPE screening, one per rung-0 coin); they are used when
    they cover the plan's rung-0 coins, else rung 0 is simulated. Each rung's simulations (one
    job per coin, signals computed here) run on ``runner`` (default: in this process); the
    result does not depend on the runner. Returns None when no set
    reaches ``min_trades`` IS trades over all coins on the last rung.

    Raises
    ------
    ValueError
        If ``coins`` is empty or ``n_params < 1``.
    """
    plan = rung_plan(n_params, len(coins), cfg)
    run = runner or LocalGridRunner()
    candidates = list(range(n_params))
    trials = 0
    ledger: list[RungTrials] = []
    grid_returns = None
    for r, (_, n_coins) in enumerate(plan):
        used = coins[:n_coins]
        if r == 0 and screen_returns and len(candidates) > 1:
            grid_returns = screen_grid_returns(coins[: min(len(coins), cfg.screen_coins)], candidates)
        reuse = r == 0 and first_rung is not None and len(first_rung) == n_coins
        results = first_rung if reuse else run.run([c.grid_job(candidates, c.i_is, c.i_oos) for c in used])
        ledger.append(_rung_trials(r, candidates, used, results))
        trials += len(candidates) * n_coins
        last = r == len(plan) - 1
        sharpe, trades, order = rank_sets(results, rung_floor(min_trades, n_coins, len(coins)))
        if last:
            if trades[order[0]] < min_trades:
                return None
            k = int(order[0])
            return SearchResult(candidates[k], candidates, float(sharpe[k]), results, trials, plan, ledger,
                                grid_returns)
        keep = plan[r + 1][0]
        candidates = [candidates[int(i)] for i in sorted(order[:keep])]
        for c in used:
            c.keep_only(candidates)  # free the pruned sets' signals (peak memory = rung 0)
    raise AssertionError("unreachable: the rung plan always ends with a last rung")  # pragma: no cover
