"""The multiple-testing gate of pool entry: deflated Sharpe ratio and PBO (SPEC §3.5).

A strategy's backtest is the best of many configurations; before it may enter the ACTIVE
pool the scorer asks two questions (the formulas are in :mod:`sixbtc.scorer.statistics`):

**DSR** (Bailey & López de Prado 2014). Is the selected configuration's Sharpe ratio above
the expected maximum Sharpe of ``N`` skill-less trials?

* Track record: the selected configuration's daily returns over **IS+OOS**, pooled
  equal-weight across the assigned timeframe's coins (per-day Sharpe, skewness and kurtosis
  of those returns, ``T`` = number of days). IS+OOS, not OOS alone: the DSR models the
  *selected* track record as the maximum of ``N`` trials, which is what the search produced
  on IS; the OOS days dilute that selection bias honestly and double ``T`` (the 60 OOS days
  alone leave the test almost powerless), while OOS-only returns are not selected and
  deflating them by ``N`` would over-penalise.
* ``N``: parameter sets × timeframes actually searched for this strategy (the trial ledger).
  Coins are **not** separate trials: the search ranks a configuration by its mean Sharpe
  across coins, so the coins form one pooled track record per configuration. Correlated
  neighbouring parameter sets make ``N`` an over-count (conservative, see
  :func:`~sixbtc.scorer.psr.deflated_sharpe_ratio`), which the variance ``V`` offsets: it is
  the variance of the per-day Sharpe ratios of the configurations on the screening coins
  over IS+OOS (the PBO matrix), and similar configurations have similar Sharpe ratios.
* **The factory's whole search** (``scoring.factory_trials``, on by default): a passer is also
  the best of every strategy the factory tried in the cycle's window. The trial ledger keeps
  a few IS+OOS daily return series per searched strategy and timeframe; they are clustered
  by correlation (López de Prado 2019, :mod:`sixbtc.scorer.effective_trials`) into
  ``N_eff`` effective independent trials, with ``V`` the variance of the clusters' per-day
  Sharpe ratios. When ``N_eff`` exceeds the strategy's own ``N``, the gate uses ``N_eff``
  and that ``V`` (the caller, ``sixbtc.app.backtest_records.gate_for``, picks the pair).
  Series from other windows (earlier cycles) cannot be correlated with this window's and
  are not counted.
* Rejected (``score:dsr``) when ``DSR < dsr_min_prob``.

**PBO** (Bailey, Borwein, López de Prado & Zhu 2017). Does picking the best parameter set
in one half of the days select a below-median set in the other half? CSCV over the daily
returns matrix ``(n_days, n_configs)`` of the searched sets on the screening coins over
IS+OOS, per-day Sharpe as metric, ``S = min(pbo_splits, 2 * (n_days // 10))`` blocks (at
least 5 days per half-block pair: ~10-day blocks keep each half's Sharpe estimate usable;
``S`` is even). Not computed (``None``, no gate) when fewer than 2 configurations or fewer
than 40 days. At most :data:`PBO_COMBINATIONS` combinations (seeded sample). Rejected
(``score:pbo``) when ``PBO > pbo_max``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sixbtc.scorer.statistics import (
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probability_of_backtest_overfitting,
    sharpe_moments,
)

#: Fewest days for the PBO (4 blocks of 10 days).
MIN_PBO_DAYS = 40
#: CSCV combinations evaluated (a seeded sample of the C(16, 8) = 12,870): the PBO's sampling
#: standard error is then at most sqrt(0.25 / 1000) = 1.6 points, and a 1,000-set grid costs
#: ~1 s instead of ~10 s per strategy.
PBO_COMBINATIONS = 1000


@dataclass(frozen=True)
class GateVerdict:
    """Outcome of :func:`multiple_testing_gate`.

    ``dsr`` probability (fraction); ``sr`` and ``sr0`` the per-day Sharpe of the track record
    and the expected maximum Sharpe of the trials; ``n_trials`` N, ``n_days`` T; ``pbo``
    fraction or None (not computed); ``reason`` ``score:dsr`` / ``score:pbo`` or None (passed
    or not enforced) and ``detail`` a readable summary.
    """

    dsr: float
    sr: float
    sr0: float
    n_trials: int
    n_days: int
    pbo: float | None
    reason: str | None
    detail: str

    def to_json(self) -> dict[str, float | int | None]:
        """The figures stored in the strategy's ``metrics`` (rounded)."""
        return {"dsr": round(self.dsr, 6), "pbo": None if self.pbo is None else round(self.pbo, 6),
                "dsr_sr": round(self.sr, 6), "dsr_sr0": round(self.sr0, 6), "dsr_days": self.n_days}


def trial_sharpe_variance(grid_returns: list[np.ndarray]) -> float:
    """Variance of the per-day Sharpe ratios of every configuration column that traded.

    Parameters
    ----------
    grid_returns : list of numpy.ndarray
        float ``(n_days_k, n_configs_k)`` daily returns per searched timeframe.

    Returns
    -------
    float
        ``var(SR)`` (ddof 1) over the columns with non-zero volatility; 0.0 when fewer than
        two columns traded.
    """
    sharpes = []
    for m in grid_returns:
        m = np.asarray(m, dtype=np.float64)
        sd = m.std(axis=0)
        ok = sd > 1e-12
        sharpes.append(m.mean(axis=0)[ok] / sd[ok])
    all_sr = np.concatenate(sharpes) if sharpes else np.empty(0)
    return float(np.var(all_sr, ddof=1)) if all_sr.size >= 2 else 0.0


def pbo_splits_for(n_days: int, max_splits: int) -> int:
    """CSCV blocks for ``n_days`` days: ``min(max_splits, 2 * (n_days // 10))`` rounded down to
    even; 0 when below 4 (too few days for a PBO)."""
    s = min(int(max_splits), 2 * (int(n_days) // 10))
    s -= s % 2
    return s if s >= 4 else 0


def multiple_testing_gate(track: np.ndarray, grid_returns: np.ndarray | None, n_trials: int,
                          trials_sr_variance: float, *, dsr_min_prob: float, pbo_max: float,
                          pbo_splits: int = 16, enforce: bool = True) -> GateVerdict:
    """DSR and PBO of a selected configuration, and whether it may enter the pool.

    Parameters
    ----------
    track : numpy.ndarray
        float ``(n_days,)``: daily returns (fractions) of the selected configuration, IS+OOS.
    grid_returns : numpy.ndarray or None
        float ``(n_days', n_configs)`` daily returns of the searched configurations (PBO
        matrix); None skips the PBO.
    n_trials : int
        N, configurations tried (>= 1).
    trials_sr_variance : float
        V, variance of the trials' per-day Sharpe ratios (:func:`trial_sharpe_variance`).
    dsr_min_prob, pbo_max : float
        Thresholds (fractions).
    pbo_splits : int
        Largest number of CSCV blocks (:func:`pbo_splits_for`).
    enforce : bool
        False computes the figures but never rejects (``scoring.multiple_testing_gate``).

    Returns
    -------
    GateVerdict
        A constant (never-trading) track record has DSR 0.

    Raises
    ------
    ValueError
        If ``track`` has fewer than 2 days or holds NaN/inf, or N/V are invalid.
    """
    r = np.asarray(track, dtype=np.float64)
    sr0 = expected_max_sharpe(int(n_trials), trials_sr_variance)
    try:
        sr, skew, kurt, t = sharpe_moments(r)
        dsr = deflated_sharpe_ratio(sr, t, skew, kurt, int(n_trials), trials_sr_variance)
    except ValueError:
        if r.ndim != 1 or r.size < 2 or not np.isfinite(r).all():
            raise
        sr, t, dsr = 0.0, int(r.size), 0.0  # constant returns (never traded): no evidence of skill
    pbo = None
    if grid_returns is not None and grid_returns.shape[1] >= 2:
        s = pbo_splits_for(grid_returns.shape[0], pbo_splits)
        if grid_returns.shape[0] >= MIN_PBO_DAYS and s:
            pbo = probability_of_backtest_overfitting(grid_returns, n_splits=s,
                                                      max_combinations=PBO_COMBINATIONS).pbo
    detail = f"DSR {dsr:.3f} (SR/day {sr:.3f} vs E[max] {sr0:.3f}, N={n_trials}, T={t})" + \
        ("" if pbo is None else f", PBO {pbo:.2f}")
    reason = None
    if enforce and dsr < dsr_min_prob:
        reason = "score:dsr"
    elif enforce and pbo is not None and pbo > pbo_max:
        reason = "score:pbo"
    return GateVerdict(dsr, sr, sr0, int(n_trials), t, pbo, reason, detail)
