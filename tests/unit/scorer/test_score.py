"""The 0–100 score: anchors, monotonicity, NaN handling and weights (SPEC §3.5)."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sixbtc.config.sections import ScoringSection
from sixbtc.scorer.score import ScoreInputs, live_score, score

WORST = ScoreInputs(sharpe=0.0, expectancy=0.0, profit_factor=1.0, win_rate=0.30, drawdown=0.50,
                    consistency=0.0, trades=0.0)
BEST = ScoreInputs(sharpe=3.0, expectancy=0.01, profit_factor=2.5, win_rate=0.70, drawdown=0.0,
                   consistency=1.0, trades=100.0, wfa_consistency=1.0, degradation=0.0)
PENALTY_INPUTS = ("pbo", "top_trade_share", "best_day_share")
FIELDS = [f.name for f in dataclasses.fields(ScoreInputs) if f.name not in PENALTY_INPUTS]
ZERO_WEIGHTS = {k: 0.0 for k in FIELDS}


def _only(component: str) -> ScoringSection:
    """Weights that score ``component`` alone."""
    return ScoringSection(**{**ZERO_WEIGHTS, component: 1.0})


def test_anchor_extremes_give_0_and_100() -> None:
    w = ScoringSection()
    assert score(WORST, w, penalise=False) == 0.0
    assert score(BEST, w) == 100.0


def test_beyond_the_anchors_is_clipped() -> None:
    w = ScoringSection()
    very_bad = ScoreInputs(-5.0, -0.2, 0.1, 0.0, 0.95, 0.0, 0.0)
    very_good = ScoreInputs(12.0, 0.5, 40.0, 1.0, 0.0, 1.0, 10_000.0)
    assert score(very_bad, w) == 0.0
    assert score(very_good, w) == 100.0


@pytest.mark.parametrize(
    ("component", "value", "expected"),
    [
        ("sharpe", 1.5, 50.0),        # halfway 0 → 3
        ("expectancy", 0.0025, 25.0),  # a quarter of 1 % per trade
        ("profit_factor", 2.0, 200.0 / 3.0),  # (2.0 - 1.0) / 1.5
        ("win_rate", 0.40, 25.0),      # (0.40 - 0.30) / 0.40
        ("drawdown", 0.10, 80.0),      # (0.50 - 0.10) / 0.50
        ("consistency", 0.6, 60.0),
        ("trades", 30.0, 30.0),
    ],
)
def test_single_component_is_linear_between_its_anchors(component: str, value: float, expected: float) -> None:
    inputs = dataclasses.replace(WORST, **{component: value})
    assert score(inputs, _only(component), penalise=False) == pytest.approx(expected, abs=1e-4)


def test_default_weights_are_averaged() -> None:
    # Sharpe and drawdown excellent, everything else worthless:
    # 100 * (0.30 + 0.15) / (0.30 + 0.15 + 0.15 + 0.10 + 0.15 + 0.10 + 0.05) = 45.
    inputs = dataclasses.replace(WORST, sharpe=3.0, drawdown=0.0)
    assert score(inputs, ScoringSection(), penalise=False) == pytest.approx(45.0, abs=1e-4)


def test_weights_need_not_sum_to_one() -> None:
    inputs = dataclasses.replace(WORST, sharpe=3.0)
    w = ScoringSection(**{**ZERO_WEIGHTS, "sharpe": 2.0, "trades": 6.0})
    assert score(inputs, w, penalise=False) == pytest.approx(25.0, abs=1e-4)


@pytest.mark.parametrize("component", FIELDS)
def test_nan_component_scores_zero(component: str) -> None:
    inputs = dataclasses.replace(BEST, **{component: math.nan})
    assert score(inputs, _only(component), penalise=False) == 0.0
    # with the other components intact the total loses exactly that component's weight
    w = ScoringSection()
    total = sum(getattr(w, f) for f in FIELDS)
    expected = 100.0 * (total - getattr(w, component)) / total
    assert score(inputs, w, penalise=False) == pytest.approx(expected, abs=1e-3)


def test_unmeasured_components_are_left_out() -> None:
    # WORST leaves wfa_consistency / degradation unmeasured (None): their weights drop out
    w = ScoringSection(**{**ZERO_WEIGHTS, "sharpe": 1.0, "wfa_consistency": 1.0, "degradation": 1.0})
    assert score(dataclasses.replace(WORST, sharpe=3.0), w, penalise=False) == 100.0
    measured = dataclasses.replace(WORST, sharpe=3.0, wfa_consistency=0.5, degradation=0.75)
    assert score(measured, w, penalise=False) == pytest.approx(100.0 * (1.0 + 0.5 + 0.25) / 3.0, abs=1e-4)


def test_all_zero_weights_raise_value_error() -> None:
    with pytest.raises(ValueError, match="weight"):
        score(BEST, ScoringSection(**ZERO_WEIGHTS))


def test_negative_weight_is_refused_by_the_config() -> None:
    with pytest.raises(ValueError):
        ScoringSection(sharpe=-1.0)


_value = st.floats(min_value=-10.0, max_value=200.0, allow_nan=False)


@given(component=st.sampled_from(FIELDS), a=_value, b=_value)
def test_score_is_monotonic_in_each_component(component: str, a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    base = ScoreInputs(1.0, 0.004, 1.6, 0.5, 0.2, 0.5, 40.0)
    s_lo = score(dataclasses.replace(base, **{component: lo}), ScoringSection())
    s_hi = score(dataclasses.replace(base, **{component: hi}), ScoringSection())
    assert 0.0 <= s_lo <= 100.0 and 0.0 <= s_hi <= 100.0
    if component in ("drawdown", "degradation"):  # a larger drawdown / degradation is worse
        assert s_hi <= s_lo
    else:
        assert s_hi >= s_lo


def test_live_score_uses_the_backtest_formula_with_win_rate_as_consistency() -> None:
    w = ScoringSection()
    got = live_score(sharpe=1.5, expectancy=0.005, profit_factor=1.75, win_rate=0.6,
                     max_drawdown=0.25, n_trades=50, weights=w)
    # every component is exactly halfway between its anchors except win rate (0.75) and
    # consistency = win rate (0.6): 100 * (0.30*.5 + .15*.5 + .15*.5 + .10*.75 + .15*.5 + .10*.6
    # + .05*.5) / 1.0
    expected = 100 * (0.15 + 0.075 + 0.075 + 0.075 + 0.075 + 0.06 + 0.025)
    assert got == pytest.approx(expected, abs=1e-4)
    assert got == score(ScoreInputs(1.5, 0.005, 1.75, 0.6, 0.25, 0.6, 50.0), w, penalise=False)


def test_few_trades_shrink_the_backtest_score_by_the_square_root() -> None:
    w = ScoringSection()
    many = dataclasses.replace(BEST, trades=200.0)
    few = dataclasses.replace(BEST, trades=19.0)
    assert score(many, w) == 100.0
    assert score(few, w) == pytest.approx(score(few, w, penalise=False) * (19 / 50) ** 0.5, abs=1e-3)
    assert score(few, ScoringSection(penalty_min_trades=0)) == score(few, w, penalise=False)


@pytest.mark.parametrize(("pbo", "factor"), [(None, 1.0), (0.1, 1.0), (0.2, 1.0), (0.5, 0.625), (0.89, 0.1375),
                                              (1.0, 0.0)])
def test_pbo_multiplier_falls_linearly_above_its_start(pbo: float | None, factor: float) -> None:
    got = score(dataclasses.replace(BEST, pbo=pbo), ScoringSection())
    assert got == pytest.approx(100.0 * factor, abs=1e-3)


def test_profit_concentration_in_few_trades_or_one_day_is_penalised() -> None:
    w = ScoringSection()
    assert score(dataclasses.replace(BEST, top_trade_share=0.5, best_day_share=0.1), w) == 100.0
    assert score(dataclasses.replace(BEST, top_trade_share=0.85), w) == pytest.approx(50.0, abs=1e-3)
    burst = dataclasses.replace(BEST, best_day_share=0.77)  # the one-day winner
    assert score(burst, w) == pytest.approx(100.0 * 0.23 / 0.75, abs=1e-3)
    off = ScoringSection(best_day_share_start=1.0, top_trade_share_start=1.0)
    assert score(dataclasses.replace(BEST, top_trade_share=1.0, best_day_share=1.0), off) == 100.0
    assert score(dataclasses.replace(BEST, best_day_share=math.nan), w) == 0.0
