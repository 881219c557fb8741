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

**Penalties** (backtest scores only, :func:`score` with ``penalise=True``; the live score
of the monitor has none). The weighted score is multiplied by four factors in [0, 1]
(``scoring`` keys; each factor is reported by :func:`penalty_factors`):

* few trades: ``min(1, sqrt(trades / penalty_min_trades))`` (default 50 pooled OOS trades;
  19 trades keep 62 % of the score). The ``trades`` component above only adds a little;
  this shrink stops a high Sharpe over a handful of trades from topping the pool.
* overfitting: ``clip((1 - PBO) / (1 - pbo_penalty_start), 0, 1)`` (default start 0.2: a PBO
  of 0.5 keeps 62.5 %, 0.89 keeps 14 %); 1 when the PBO was not measured.
* profit in a few trades: ``clip((1 - s) / (1 - top_trade_share_start), 0, 1)`` with ``s``
  the share of the gross profit made by the best 10 % of the trades (default start 0.7);
* profit on one day: the same with ``s`` the best day's share of the positive days' profit
  (default start 0.25; :func:`~sixbtc.backtester.pooled.profit_concentration`).

A start of 1.0 switches that factor off; ``None`` inputs (not measured) leave it at 1.
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
    Sharpe is not positive). ``pbo``, ``top_trade_share`` and ``best_day_share`` (fractions)
    feed the penalties of the module notes. ``None`` = not measured (left out of the score).
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
    pbo: float | None = None
    top_trade_share: float | None = None
    best_day_share: float | None = None


def _unit(value: float, lo: float, hi: float) -> float:
    if value != value:  # NaN
        return 0.0
    frac = (value - lo) / (hi - lo)
    return min(1.0, max(0.0, frac))


def _falling(value: float | None, start: float) -> float:
    """1 up to ``start``, then linear to 0 at 1.0 (1 when ``value`` is None or ``start >= 1``)."""
    if value is None or start >= 1.0:
        return 1.0
    if value != value:  # NaN: not measurable, no credit
        return 0.0
    return min(1.0, max(0.0, (1.0 - value) / (1.0 - start)))


def penalty_factors(inputs: ScoreInputs, weights: ScoringSection) -> dict[str, float]:
    """The four multiplicative penalties of the module notes, each in [0, 1]."""
    floor = float(weights.penalty_min_trades)
    trades = max(0.0, float(inputs.trades)) if inputs.trades == inputs.trades else 0.0
    return {
        "trades": 1.0 if floor <= 0 else min(1.0, (trades / floor) ** 0.5),
        "pbo": _falling(inputs.pbo, weights.pbo_penalty_start),
        "top_trades": _falling(inputs.top_trade_share, weights.top_trade_share_start),
        "best_day": _falling(inputs.best_day_share, weights.best_day_share_start),
    }


def score(inputs: ScoreInputs, weights: ScoringSection, *, penalise: bool = True) -> float:
    """Weighted 0–100 score of ``inputs`` (components that are ``None`` are left out), times
    the penalties of :func:`penalty_factors` unless ``penalise`` is False.

    Raises
    ------
    ValueError
        If all weights are zero.
    """
    w = {k: float(getattr(weights, k)) for k in _ANCHORS if getattr(inputs, k) is not None}
    total = sum(w.values())
    if total <= 0:
        raise ValueError("scoring: at least one weight of a measured component must be > 0")
    acc = sum(w[k] * _unit(getattr(inputs, k), *_ANCHORS[k]) for k in w) / total
    if penalise:
        for factor in penalty_factors(inputs, weights).values():
            acc *= factor
    return round(100.0 * acc, 4)


def live_score(*, sharpe: float, expectancy: float, profit_factor: float, win_rate: float,
               max_drawdown: float, n_trades: int, weights: ScoringSection) -> float:
    """The live score (0–100) of a paper/live track record, with the backtest score's formula.

    Consistency is the share of winning trades (a track record has one coin-window per trade);
    walk-forward consistency and degradation are not measured live (left out).
    """
    inputs = ScoreInputs(sharpe=sharpe, expectancy=expectancy, profit_factor=profit_factor,
                         win_rate=win_rate, drawdown=max_drawdown, consistency=win_rate,
                         trades=float(n_trades))
    return score(inputs, weights, penalise=False)
