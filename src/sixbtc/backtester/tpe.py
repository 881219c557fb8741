"""Screening rung of the parameter search by TPE, for grids larger than ``max_param_sets``.

A grid of 10,000 sets cannot be screened exhaustively, and a uniform sample of 1,000 of them
spends most simulations far from the good region. Instead the Tree-structured Parzen
Estimator (Bergstra et al. 2011, "Algorithms for Hyper-Parameter Optimization", NeurIPS; the
implementation of Optuna, Akiba et al. 2019) proposes ``n_trials`` distinct sets of the grid,
in batches of :data:`BATCH` so that each batch is one signal call and one grid simulation per
coin; the first batch is random (TPE's start-up trials). Each proposal is scored on the
rung-0 coins' **in-sample** window only, exactly as successive halving ranks its screening
rung (mean IS Sharpe; a set below the rung's trade floor scores ``-100 + trades / floor``,
below every eligible set, and still guides TPE towards sets that trade). Out-of-sample data
is never looked at. The proposals, in order, become the searched parameter list: every one
is a trial of the ledger (rung 0), and successive halving continues from rung 1 on them.

A proposal already evaluated (TPE may propose the same set twice) is told its known value
and neither simulated nor counted again; after ``2 x n_trials`` asks the remaining sets are
drawn uniformly among those not evaluated. The search is deterministic for a given ``seed``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from sixbtc.backtester.coinset import CoinSeries
from sixbtc.backtester.metrics import GridResult

#: Proposals per TPE batch: one signal call and one grid simulation per coin and batch, and
#: TPE's start-up (random) trials.
BATCH = 32
#: Asks allowed per distinct set wanted (a proposal of a known set uses an ask and is told its
#: known value): bounds TPE's cost (each ask refits its estimators) once it has converged.
ASKS_PER_SET = 2
#: TPE options: multivariate (joint Parzen estimators, Falkner et al. 2018) and 8 candidates per
#: ask instead of 24 (a third of the acquisition work, which profiled at ~30 % of an ask): on the
#: planted objective of the tests it found the optimum with 96 trials for 6 of 6 seeds, against
#: 4 of 6 with 24 candidates; a constant liar changed no proposal there.
SAMPLER: dict[str, Any] = {"multivariate": True, "n_ei_candidates": 8}
#: Objective of a set below the trade floor: below any annualised Sharpe a strategy reaches.
INELIGIBLE = -100.0


def grid_count(space: dict[str, list[Any]]) -> int:
    """Number of parameter sets in the cartesian product of ``space``."""
    return math.prod(len(v) for v in space.values())


def _distributions(space: dict[str, list[Any]]) -> dict[str, Any]:
    """One index distribution per parameter: ordered (int) for ascending numbers, else categorical."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    out: dict[str, Any] = {}
    for name, values in space.items():
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        ordered = numeric and all(a < b for a, b in zip(values, values[1:], strict=False))
        out[name] = IntDistribution(0, len(values) - 1) if ordered and len(values) > 1 else \
            CategoricalDistribution(list(range(len(values))))
    return out


def _objective(results: list[GridResult], floor: float) -> np.ndarray:
    """Per set: mean IS Sharpe over the coins, or :data:`INELIGIBLE` + trades/floor below ``floor``."""
    sharpe = np.nan_to_num(np.mean([g.sharpe for g in results], axis=0), nan=INELIGIBLE, neginf=INELIGIBLE,
                           posinf=INELIGIBLE)
    trades = np.sum([g.n_trades for g in results], axis=0).astype(np.float64)
    return np.where(trades >= floor, sharpe, INELIGIBLE + trades / max(floor, 1.0))


def _concat(parts: list[GridResult]) -> GridResult:
    return GridResult(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in GridResult.__dataclass_fields__})


def _unseen(space: dict[str, list[Any]], known: set[tuple[int, ...]], k: int, seed: int) -> list[tuple[int, ...]]:
    """``k`` index tuples of ``space`` not in ``known``, drawn uniformly (seeded), in draw order."""
    sizes = [len(v) for v in space.values()]
    flat = np.setdiff1d(np.arange(math.prod(sizes)), [np.ravel_multi_index(key, sizes) for key in known])
    pick = np.random.default_rng(seed).choice(flat, size=min(k, len(flat)), replace=False)
    return [tuple(int(i) for i in np.unravel_index(int(f), sizes)) for f in pick]


def tpe_screen(coins: list[CoinSeries], space: dict[str, list[Any]], params: list[dict[str, Any]], n_trials: int,
               floor: float, seed: int) -> list[GridResult]:
    """Propose and screen ``n_trials`` distinct sets of ``space`` on ``coins`` (IS window).

    TPE asks at most :data:`ASKS_PER_SET` times per set wanted; when its proposals keep
    repeating known sets (it has converged), the remaining sets are drawn uniformly among the
    sets not evaluated yet (seeded), so the cost stays bounded.

    Parameters
    ----------
    coins : list of CoinSeries
        The rung-0 coins (most liquid first), loaded with ``params`` as their parameter list.
    space : dict of str to list
        The strategy's whole grid (``param_space``).
    params : list of dict
        Empty list the coin series share: each proposal is appended to it (in place) before it
        is simulated, so its position is its index in the searched parameter list.
    n_trials : int
        Distinct sets wanted (at most the grid's size).
    floor : float
        Trades (summed over ``coins``) a set needs to be ranked by its Sharpe.
    seed : int
        Seed of the TPE sampler and of the uniform fill.

    Returns
    -------
    list of GridResult
        Per coin, the IS metrics of every proposal (shape ``(len(params),)`` each).

    Raises
    ------
    ValueError
        If ``coins`` is empty, ``params`` is not empty or ``n_trials < 1``.
    """
    import optuna

    if not coins or params or n_trials < 1:
        raise ValueError(f"tpe_screen needs coins, an empty params list and n_trials >= 1; got {len(coins)} coins, "
                         f"{len(params)} params, n_trials={n_trials}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    want = min(n_trials, grid_count(space))
    names, dists = list(space), _distributions(space)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(BATCH, want), **SAMPLER)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    known: dict[tuple[int, ...], float] = {}
    parts: list[list[GridResult]] = []

    def evaluate(keys: list[tuple[int, ...]]) -> np.ndarray:
        start = len(params)
        params.extend({n: space[n][i] for n, i in zip(names, key, strict=True)} for key in keys)
        results = [c.grid(list(range(start, len(params))), c.i_is, c.i_oos) for c in coins]
        parts.append(results)
        values = _objective(results, floor)
        known.update(zip(keys, values.tolist(), strict=True))
        return values

    asks = 0
    while len(params) < want and asks < ASKS_PER_SET * want:
        batch: dict[tuple[int, ...], list[Any]] = {}
        while len(params) + len(batch) < want and len(batch) < BATCH and asks < ASKS_PER_SET * want:
            trial = study.ask(dists)
            asks += 1
            key = tuple(int(trial.params[n]) for n in names)
            if key in known:
                study.tell(trial, known[key])
            else:
                batch.setdefault(key, []).append(trial)
        if batch:
            for key, value in zip(batch, evaluate(list(batch)), strict=True):
                for trial in batch[key]:
                    study.tell(trial, float(value))
    rest = _unseen(space, set(known), want - len(params), seed)
    for i in range(0, len(rest), BATCH):
        evaluate(rest[i:i + BATCH])
    return [_concat([p[k] for p in parts]) for k in range(len(coins))]
