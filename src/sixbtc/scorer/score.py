"""The 0–100 strategy score.

Each component is mapped linearly onto [0, 1] between a "worthless" and an "excellent"
anchor (below/above are clipped), then the components are averaged with the weights of the
``scoring`` config section and multiplied by 100. Anchors (per trade / annualised values):

=============  ===============  =================
component      0 at             1 at
=============  ===============  =================
Sharpe         0.0              3.0 (annualised)
expectancy     0.0              0.01 (1 % per trade, net)
profit factor  1.0              2.5
win rate       0.30             0.70
drawdown       0.50             0.0 (max drawdown, fraction)
consistency    0.0              1.0 (share of coins profitable OOS)
wfa_consist.   0.0              1.0 (share of walk-forward folds profitable)
degradation    1.0              0.0 (IS->OOS Sharpe degradation, fraction)
trades         0                100 trades
=============  ===============  =================

``wfa_consistency`` and ``degradation`` may be ``None`` (not measured: no walk-forward
run, or a live track record); their weights are then left out and the others renormalised.

A strategy with negative expectancy or Sharpe gets 0 on those components, so losing
strategies cannot reach the pool's ``min_score`` on the other components alone unless they
are unusually consistent; the multiple-testing gate of a later issue tightens this further.
"""

from __future__ import annotations

from dataclasses import dataclass

from sixbtc.config.sections import ScoringSection

_ANCHORS: dict[str, tuple[float, float]] = {
    "sharpe": (0.0, 3.0),
    "expectancy": (0.0, 0.01),
    "profit_factor": (1.0, 2.5),
    "win_rate": (0.30, 0.70),
    "drawdown": (0.50, 0.0),
    "consistency": (0.0, 1.0),
    "wfa_consistency": (0.0, 1.0),
    "degradation": (1.0, 0.0),
    "trades": (0.0, 100.0),
}


@dataclass(frozen=True)
class ScoreInputs:
    """Aggregated metrics a score is computed from (fractions, not percent).

    ``drawdown`` is the max drawdown as a positive fraction; ``consistency`` the share of
    coins (or windows) that were profitable; ``trades`` the number of trades;
    ``wfa_consistency`` the share of walk-forward folds profitable; ``degradation`` the
    IS->OOS Sharpe degradation ``(SR_is - SR_oos) / |SR_is|`` (fraction; 1.0 when the IS
    Sharpe is not positive). ``None`` = not measured (left out of the score).
    """

    sharpe: float
    expectancy: float
    profit_factor: float
    win_rate: float
    drawdown: float
    consistency: float
    trades: float
    wfa_consistency: float | None = None
    degradation: float | None = None


def _unit(value: float, lo: float, hi: float) -> float:
    if value != value:  # NaN
        return 0.0
    frac = (value - lo) / (hi - lo)
    return min(1.0, max(0.0, frac))


def score(inputs: ScoreInputs, weights: ScoringSection) -> float:
    """Weighted 0–100 score of ``inputs`` (components that are ``None`` are left out).

    Raises
    ------
    ValueError
        If all weights are zero.
    """
    w = {k: float(getattr(weights, k)) for k in _ANCHORS if getattr(inputs, k) is not None}
    total = sum(w.values())
    if total <= 0:
        raise ValueError("scoring: at least one weight of a measured component must be > 0")
    acc = sum(w[k] * _unit(getattr(inputs, k), *_ANCHORS[k]) for k in w)
    return round(100.0 * acc / total, 4)


def live_score(*, sharpe: float, expectancy: float, profit_factor: float, win_rate: float,
               max_drawdown: float, n_trades: int, weights: ScoringSection) -> float:
    """The live score (0–100) of a paper/live track record, with the backtest score's formula.

    Consistency is the share of winning trades (a track record has one coin-window per trade);
    walk-forward consistency and degradation are not measured live (left out).
    """
    inputs = ScoreInputs(sharpe=sharpe, expectancy=expectancy, profit_factor=profit_factor,
                         win_rate=win_rate, drawdown=max_drawdown, consistency=win_rate,
                         trades=float(n_trades))
    return score(inputs, weights)
