"""Probability of Backtest Overfitting by combinatorially symmetric cross-validation (CSCV).

Source: Bailey, D. H., Borwein, J., López de Prado, M. & Zhu, Q. J. (2017), "The
Probability of Backtest Overfitting", *Journal of Computational Finance* 20(4), 39–69:
the CSCV procedure (steps 1–5 below) and its statistics (performance degradation,
probability of loss).

Algorithm (T periods, N configurations, S splits):

1. Cut the trial matrix ``M`` (T × N) into S contiguous blocks of ``T // S`` rows (the
   ``T mod S`` oldest rows are dropped so blocks have equal size).
2. For each combination c of S/2 blocks: the training set J is those blocks (in time
   order), the testing set J̄ the other S/2 blocks.
3. Evaluate the metric of every configuration on J (vector R) and on J̄ (vector R̄);
   n* = argmax R (first index on ties) is the in-sample best.
4. ω̄_c = rank of R̄[n*] among R̄ (1 = worst, average rank on ties) / (N + 1);
   logit λ_c = ln(ω̄_c / (1 - ω̄_c)).
5. PBO = share of combinations with λ_c <= 0 (the IS-best did not beat the OOS median).

Performance degradation is the least-squares slope of R̄[n*] on R[n*] across
combinations; the probability of loss is the share of combinations with R̄[n*] < 0.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: Number of CSCV combinations evaluated at most; C(16, 8) = 12 870 fits, so the paper's
#: recommended S = 16 is enumerated exactly. Beyond it, a seeded random sample is used.
DEFAULT_MAX_COMBINATIONS = 20_000

Metric = Callable[[np.ndarray], np.ndarray]

#: Combinations are scored in chunks of about this many (combination, config) cells.
_CHUNK_CELLS = 1_000_000


@dataclass(frozen=True)
class PBOResult:
    """Outcome of :func:`probability_of_backtest_overfitting`.

    Arrays have one entry per evaluated CSCV combination (shape ``(n_combinations,)``),
    in the order of ``itertools.combinations(range(n_splits), n_splits // 2)`` when all
    combinations are enumerated.

    Attributes
    ----------
    pbo : float
        Probability of backtest overfitting, a fraction in [0, 1].
    logits : numpy.ndarray of float
        λ_c = ln(ω̄_c / (1 - ω̄_c)); positive when the IS-best ranks above the OOS median.
    is_best_index : numpy.ndarray of int
        Column of the in-sample best configuration n* per combination.
    oos_rank : numpy.ndarray of float
        Out-of-sample rank of n* among the N configurations (1 = worst, N = best;
        average rank on ties).
    is_performance : numpy.ndarray of float
        Metric of n* in sample, R[n*].
    oos_performance : numpy.ndarray of float
        Metric of n* out of sample, R̄[n*].
    degradation_slope : float
        Least-squares slope of ``oos_performance`` on ``is_performance`` (negative or near
        zero slopes mean IS optimisation does not carry over); NaN if IS values are all
        equal.
    degradation_intercept : float
        Intercept of that regression.
    prob_oos_loss : float
        Share of combinations with ``oos_performance < 0`` (fraction).
    n_splits : int
        S, the number of blocks.
    n_combinations : int
        Number of combinations evaluated.
    sampled : bool
        True when the combinations were a seeded random sample (cap exceeded).
    """

    pbo: float
    logits: np.ndarray
    is_best_index: np.ndarray
    oos_rank: np.ndarray
    is_performance: np.ndarray
    oos_performance: np.ndarray
    degradation_slope: float
    degradation_intercept: float
    prob_oos_loss: float
    n_splits: int
    n_combinations: int
    sampled: bool


def probability_of_backtest_overfitting(perf: np.ndarray, n_splits: int = 16,
                                        metric: Metric | None = None,
                                        max_combinations: int = DEFAULT_MAX_COMBINATIONS,
                                        seed: int = 0) -> PBOResult:
    """PBO of selecting the best of N configurations, by CSCV (Bailey et al. 2017).

    Parameters
    ----------
    perf : numpy.ndarray, shape (n_periods, n_configs)
        Per-period returns (fractions) of each configuration over the same periods — the
        trial matrix M of the paper. n_configs >= 2.
    n_splits : int, default 16
        S, an even number of contiguous blocks, 2 <= S <= n_periods (the paper suggests 16).
    metric : callable, optional
        ``metric(returns) -> scores`` mapping an array of shape (rows, n_configs) to a
        vector of shape (n_configs,), higher = better. Default: per-period Sharpe ratio
        (population std, risk-free 0; a half with zero volatility scores 0), pooled from
        per-block moments so each combination costs two small matrix products.
    max_combinations : int, default 20 000
        Cap on the number of combinations. When C(S, S/2) exceeds it, ``max_combinations``
        distinct combinations are drawn at random with ``numpy.random.default_rng(seed)``.
    seed : int, default 0
        Seed of that sampling (results are reproducible).

    Returns
    -------
    PBOResult

    Raises
    ------
    ValueError
        If ``perf`` is not 2-D with >= 2 columns, contains NaN/inf, ``n_splits`` is odd,
        < 2 or > n_periods, ``max_combinations < 1``, or ``metric`` returns a wrong shape
        or NaN.
    """
    m = _check_perf(perf)
    s = _check_splits(n_splits, m.shape[0])
    if (isinstance(max_combinations, bool) or not isinstance(max_combinations, int | np.integer)
            or max_combinations < 1):
        raise ValueError(f"max_combinations must be an integer >= 1, got {max_combinations!r}")
    block = m.shape[0] // s
    m = m[m.shape[0] - block * s:]
    masks, sampled = _combination_masks(s, int(max_combinations), seed)
    if metric is None:
        halves = _sharpe_halves(m, s)
    else:
        halves = functools.partial(_metric_halves, m, s, metric=metric)
    chunk = max(1, _CHUNK_CELLS // m.shape[1])  # bounds memory to ~_CHUNK_CELLS floats
    picks = [_pick(*halves(masks[i:i + chunk])) for i in range(0, masks.shape[0], chunk)]
    best, is_perf, oos_perf, rank = (np.concatenate(p) for p in zip(*picks, strict=True))
    return _summarise(best, is_perf, oos_perf, rank, m.shape[1], s, sampled)


def _check_perf(perf: np.ndarray) -> np.ndarray:
    m = np.asarray(perf, dtype=np.float64)
    if m.ndim != 2:
        raise ValueError(f"perf must be 2-D (n_periods, n_configs), got shape {m.shape}")
    if m.shape[1] < 2:
        raise ValueError(f"perf must hold >= 2 configurations (columns), got {m.shape[1]}")
    if not np.isfinite(m).all():
        raise ValueError("perf contains NaN or infinite values")
    return m


def _check_splits(n_splits: int, n_periods: int) -> int:
    if isinstance(n_splits, bool) or not isinstance(n_splits, int | np.integer):
        raise ValueError(f"n_splits must be an integer, got {n_splits!r}")
    if n_splits < 2 or n_splits % 2:
        raise ValueError(f"n_splits must be an even integer >= 2, got {n_splits}")
    if n_splits > n_periods:
        raise ValueError(f"n_splits={n_splits} exceeds the number of periods ({n_periods})")
    return int(n_splits)


def _combination_masks(s: int, cap: int, seed: int) -> tuple[np.ndarray, bool]:
    """Boolean (n_combinations, s) matrix, True where the block is in the training set."""
    half = s // 2
    if math.comb(s, half) <= cap:
        chosen = np.array(list(itertools.combinations(range(s), half)), dtype=np.intp)
        masks = np.zeros((chosen.shape[0], s), dtype=bool)
        np.put_along_axis(masks, chosen, True, axis=1)
        return masks, False
    rng = np.random.default_rng(seed)
    seen: set[bytes] = set()
    rows = []
    while len(rows) < cap:
        mask = np.zeros(s, dtype=bool)
        mask[rng.choice(s, size=half, replace=False)] = True
        key = np.packbits(mask).tobytes()
        if key not in seen:
            seen.add(key)
            rows.append(mask)
    return np.array(rows, dtype=bool), True


def _sharpe_halves(m: np.ndarray, s: int) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Scorer of IS and OOS per-period Sharpe (n_masks, n_configs) from per-block moments.

    Each half's variance is pooled from the blocks' means and sums of squared deviations
    (Chan, Golub & LeVeque 1979), so a column that is zero on a half scores exactly 0.
    """
    blocks = m.reshape(s, -1, m.shape[1])
    size = blocks.shape[1]
    means = blocks.mean(axis=1)
    m2 = np.empty_like(means)  # per-block sums of squared deviations, one block at a time
    for k in range(s):
        dev = blocks[k] - means[k]
        m2[k] = np.einsum("ij,ij->j", dev, dev)
    scale = np.max(np.abs(m), axis=0)
    n_half = size * (s // 2)

    def sharpe(sel: np.ndarray) -> np.ndarray:
        w = sel.astype(np.float64)
        mean = (w @ means) / (s // 2)
        ss = w @ m2 + size * (w @ (means * means)) - n_half * mean * mean
        std = np.sqrt(np.maximum(ss, 0.0) / n_half)
        flat = std <= 1e-12 * scale
        return np.where(flat, 0.0, mean / np.where(flat, 1.0, std))

    return lambda masks: (sharpe(masks), sharpe(~masks))


def _metric_halves(m: np.ndarray, s: int, masks: np.ndarray,
                   metric: Metric) -> tuple[np.ndarray, np.ndarray]:
    """IS and OOS metric (n_combinations, n_configs) by calling ``metric`` per half."""
    blocks = m.reshape(s, -1, m.shape[1])
    n_cfg = m.shape[1]
    r_is = np.empty((masks.shape[0], n_cfg))
    r_oos = np.empty_like(r_is)
    for i, mask in enumerate(masks):
        r_is[i] = _call_metric(metric, blocks[mask].reshape(-1, n_cfg), n_cfg)
        r_oos[i] = _call_metric(metric, blocks[~mask].reshape(-1, n_cfg), n_cfg)
    return r_is, r_oos


def _call_metric(metric: Metric, returns: np.ndarray, n_cfg: int) -> np.ndarray:
    scores = np.asarray(metric(returns), dtype=np.float64)
    if scores.shape != (n_cfg,):
        raise ValueError(f"metric must return shape ({n_cfg},), got {scores.shape}")
    if np.isnan(scores).any():
        raise ValueError("metric returned NaN for some configuration")
    return scores


def _pick(r_is: np.ndarray, r_oos: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per combination: IS-best column, its IS and OOS metric, its OOS (average) rank."""
    best = np.argmax(r_is, axis=1)
    rows = np.arange(r_is.shape[0])
    is_perf, oos_perf = r_is[rows, best], r_oos[rows, best]
    below = (r_oos < oos_perf[:, None]).sum(axis=1)
    ties = (r_oos == oos_perf[:, None]).sum(axis=1)
    return best, is_perf, oos_perf, below + (ties + 1) / 2.0


def _summarise(best: np.ndarray, is_perf: np.ndarray, oos_perf: np.ndarray, rank: np.ndarray,
               n_cfg: int, s: int, sampled: bool) -> PBOResult:
    omega = rank / (n_cfg + 1)
    logits = np.log(omega / (1.0 - omega))
    slope, intercept = _ols(is_perf, oos_perf)
    return PBOResult(
        pbo=float(np.mean(logits <= 0.0)), logits=logits, is_best_index=best, oos_rank=rank,
        is_performance=is_perf, oos_performance=oos_perf, degradation_slope=slope,
        degradation_intercept=intercept, prob_oos_loss=float(np.mean(oos_perf < 0.0)),
        n_splits=s, n_combinations=int(best.size), sampled=sampled)


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of the least-squares line y = a + b·x (NaN slope if x is flat)."""
    dx = x - x.mean()
    sxx = float(dx @ dx)
    if sxx <= 0.0:
        return math.nan, float(y.mean())
    slope = float(dx @ (y - y.mean())) / sxx
    return slope, float(y.mean() - slope * x.mean())
