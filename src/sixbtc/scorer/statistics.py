"""Multiple-testing statistics of the scorer: PSR, MinTRL, DSR and PBO.

The formulas live in :mod:`sixbtc.scorer.psr` (Sharpe-ratio statistics) and
:mod:`sixbtc.scorer.pbo` (CSCV); this module is the one import for callers.

Conventions: Sharpe ratios are per period (not annualised), kurtosis is non-excess
(3 for normal returns), probabilities are fractions. Bad inputs raise ``ValueError``
naming the argument.

How SixBTC uses these
---------------------
The factory tries many strategies and parameter sets; the best backtest of many is biased
upwards. Before a strategy enters the ACTIVE pool the scorer gates it on

* the **Deflated Sharpe Ratio** (Bailey & López de Prado 2014) of its backtest, with the
  *real* number of trials and the variance of their Sharpe ratios read from the trial
  ledger (every strategy and parameter set ever backtested for that family), so a Sharpe
  that is no better than the luckiest of N skill-less trials is rejected;
* the **Probability of Backtest Overfitting** (Bailey, Borwein, López de Prado & Zhu 2017)
  over the strategy's parameter grid: the per-bar returns of every parameter set form the
  trial matrix; a high PBO means the chosen parameters are a fluke of the sample;
* the **Probabilistic Sharpe Ratio / minimum track record length** (Bailey & López de
  Prado 2012) of the paper-trading record before a strategy may go LIVE.

Wiring the gates to the trial ledger and the pool is done by the pool/app layers, not here;
these functions are pure.
"""

from __future__ import annotations

from sixbtc.scorer.pbo import (
    DEFAULT_MAX_COMBINATIONS,
    PBOResult,
    probability_of_backtest_overfitting,
)
from sixbtc.scorer.psr import (
    EULER_GAMMA,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    min_track_record_length,
    probabilistic_sharpe_ratio,
    sharpe_moments,
)

__all__ = [
    "DEFAULT_MAX_COMBINATIONS",
    "EULER_GAMMA",
    "PBOResult",
    "deflated_sharpe_ratio",
    "expected_max_sharpe",
    "min_track_record_length",
    "probabilistic_sharpe_ratio",
    "probability_of_backtest_overfitting",
    "sharpe_moments",
]
