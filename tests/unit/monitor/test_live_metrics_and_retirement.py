"""Live metrics and the retirement rules of SPEC §3.8."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from sixbtc.config.sections import RetirementSection
from sixbtc.monitor.live_metrics import LiveMetrics, live_metrics
from sixbtc.monitor.retirement import Evidence, judge

# Five hand-made trades on a 1000 USD sub-account over 73 days (25 trades per year).
RETURNS = np.array([0.02, -0.01, 0.006, -0.024, 0.018])
PNL = np.array([100.0, -50.0, 30.0, -120.0, 60.0])


def test_live_metrics_of_hand_computed_trades() -> None:
    m = live_metrics(RETURNS, PNL, capital_usd=1000.0, span_days=73.0)
    assert m.n_trades == 5
    assert m.pnl_usd == pytest.approx(20.0)
    assert m.win_rate == pytest.approx(3 / 5)
    assert m.expectancy == pytest.approx(0.01 / 5)          # mean return per trade
    assert m.profit_factor == pytest.approx(190.0 / 170.0)  # gross gains / gross losses
    # equity 1000 → 1100 → 1050 → 1080 → 960 → 1020: trough 960 below the 1100 peak
    assert m.max_drawdown == pytest.approx(140.0 / 1100.0)
    # deviations from the 0.002 mean: .018 -.012 .004 -.026 .016 → sample var 1416e-6 / 4
    sd = math.sqrt(1416e-6 / 4)
    assert m.sharpe == pytest.approx(0.002 / sd * math.sqrt(25.0))


def test_drawdown_starts_from_the_initial_capital() -> None:
    m = live_metrics(np.array([-0.05, 0.025]), np.array([-100.0, 50.0]), 1000.0, 30.0)
    assert m.max_drawdown == pytest.approx(0.10)  # 1000 → 900
    assert m.win_rate == pytest.approx(0.5)


def test_only_winners_give_profit_factor_10_and_no_drawdown() -> None:
    m = live_metrics(np.array([0.01, 0.02]), np.array([10.0, 20.0]), 500.0, 10.0)
    assert m.profit_factor == 10.0
    assert m.max_drawdown == 0.0
    assert m.win_rate == 1.0


def test_only_losers_give_profit_factor_0() -> None:
    m = live_metrics(np.array([-0.01, -0.02]), np.array([-10.0, -20.0]), 500.0, 10.0)
    assert m.profit_factor == 0.0
    assert m.win_rate == 0.0
    assert m.max_drawdown == pytest.approx(30.0 / 500.0)
    assert m.sharpe < 0


def test_single_trade_has_zero_sharpe() -> None:
    m = live_metrics(np.array([0.03]), np.array([30.0]), 1000.0, 5.0)
    assert m.sharpe == 0.0
    assert m.expectancy == pytest.approx(0.03)


def test_span_shorter_than_a_day_annualises_as_one_day() -> None:
    r, p = np.array([0.01, 0.03]), np.array([1.0, 3.0])
    short = live_metrics(r, p, 100.0, 0.25)
    one_day = live_metrics(r, p, 100.0, 1.0)
    assert short.sharpe == one_day.sharpe
    sd = math.sqrt(((0.01 - 0.02) ** 2 + (0.03 - 0.02) ** 2) / 1)
    assert one_day.sharpe == pytest.approx(0.02 / sd * math.sqrt(2 * 365.0))


def test_empty_track_record_is_all_zero() -> None:
    m = live_metrics(np.array([]), np.array([]), 1000.0, 1.0)
    assert m == LiveMetrics(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


def test_mismatched_shapes_raise_value_error() -> None:
    with pytest.raises(ValueError, match="same shape"):
        live_metrics(np.array([0.01, 0.02]), np.array([1.0]), 1000.0, 1.0)


@pytest.mark.parametrize("capital", [0.0, -100.0])
def test_non_positive_capital_raises_value_error(capital: float) -> None:
    with pytest.raises(ValueError, match="capital_usd"):
        live_metrics(RETURNS, PNL, capital, 73.0)


# -- retirement --------------------------------------------------------------------------------
CFG = RetirementSection()  # min_trades 10, min_score 30, max_degradation 0.5, max_drawdown 0.30
HEALTHY = LiveMetrics(n_trades=10, pnl_usd=50.0, win_rate=0.55, expectancy=0.006, profit_factor=1.5,
                      max_drawdown=0.10, sharpe=1.2)


def _with(**kw: float) -> LiveMetrics:
    return dataclasses.replace(HEALTHY, **kw)


def test_healthy_strategy_is_kept() -> None:
    v = judge(HEALTHY, 55.0, 0.008, CFG)
    assert (v.retire, v.reason) == (False, "monitor:ok")


def test_warming_up_below_min_trades_is_never_retired() -> None:
    awful = _with(n_trades=9, max_drawdown=0.9, expectancy=-0.05)
    v = judge(awful, 0.0, 0.01, CFG)
    assert (v.retire, v.reason) == (False, "monitor:warming_up")
    assert "9/10" in v.detail


def test_drawdown_above_the_limit_retires() -> None:
    v = judge(_with(max_drawdown=0.31), 55.0, 0.008, CFG)
    assert (v.retire, v.reason) == (True, "monitor:drawdown")


def test_drawdown_at_the_limit_is_kept() -> None:
    assert judge(_with(max_drawdown=0.30), 55.0, 0.008, CFG).retire is False


def test_live_score_below_min_score_retires() -> None:
    v = judge(HEALTHY, 29.9, 0.008, CFG)
    assert (v.retire, v.reason) == (True, "monitor:low_score")


def test_live_score_at_min_score_is_kept() -> None:
    assert judge(HEALTHY, 30.0, 0.008, CFG).retire is False


def test_expectancy_degraded_beyond_the_limit_retires() -> None:
    v = judge(_with(expectancy=0.0039), 55.0, 0.008, CFG)  # 51.25 % worse than backtest
    assert (v.retire, v.reason) == (True, "monitor:degraded")


def test_expectancy_degraded_exactly_at_the_limit_is_kept() -> None:
    assert judge(_with(expectancy=0.004), 55.0, 0.008, CFG).retire is False  # exactly 50 % worse


def test_negative_live_expectancy_against_positive_backtest_is_degraded() -> None:
    v = judge(_with(expectancy=-0.001), 55.0, 0.008, CFG)
    assert v.reason == "monitor:degraded"


@pytest.mark.parametrize("bt", [None, 0.0, -0.002])
def test_no_degradation_rule_without_a_positive_backtest_expectancy(bt: float | None) -> None:
    v = judge(_with(expectancy=-0.001), 55.0, bt, CFG)
    assert (v.retire, v.reason) == (False, "monitor:ok")


def test_min_trades_comes_from_the_config() -> None:
    strict = RetirementSection(min_trades=20)
    assert judge(_with(max_drawdown=0.5), 55.0, None, strict).reason == "monitor:warming_up"


# -- Monte Carlo band and PSR ------------------------------------------------------------------
def test_outside_mc_band_retires_with_the_breach_as_detail() -> None:
    v = judge(HEALTHY, 55.0, 0.008, CFG, Evidence(band_breach="cumulative return -3% < P5 -1%"))
    assert (v.retire, v.reason, v.detail) == (True, "monitor:outside_mc_band", "cumulative return -3% < P5 -1%")


def test_mc_band_is_not_judged_while_warming_up() -> None:
    v = judge(_with(n_trades=9), 55.0, 0.008, CFG, Evidence(band_breach="outside"))
    assert v.reason == "monitor:warming_up"


def test_low_psr_retires_only_after_psr_min_trades() -> None:
    cfg = RetirementSection(min_psr=0.05, psr_min_trades=30)
    weak = Evidence(psr=0.01)
    assert judge(_with(n_trades=29), 55.0, 0.008, cfg, weak).reason == "monitor:ok"
    v = judge(_with(n_trades=30), 55.0, 0.008, cfg, weak)
    assert (v.retire, v.reason) == (True, "monitor:low_psr")
    assert "0.010 < 0.05" in v.detail
    assert judge(_with(n_trades=30), 55.0, 0.008, cfg, Evidence(psr=0.05)).retire is False


def test_psr_rule_off_with_min_psr_zero() -> None:
    cfg = RetirementSection(min_psr=0.0, psr_min_trades=2)
    assert judge(_with(n_trades=100), 55.0, 0.008, cfg, Evidence(psr=0.0)).retire is False


def test_ok_verdict_reports_psr_and_skipped_checks() -> None:
    v = judge(HEALTHY, 55.0, 0.008, CFG, Evidence(psr=0.4321, notes=("no backtest trade_returns",)))
    assert v.detail == "live score 55.0; PSR 0.432; no backtest trade_returns"
    assert judge(HEALTHY, 55.0, 0.008, CFG).detail == "live score 55.0; PSR n/a"


def test_earlier_rules_take_precedence_over_the_band() -> None:
    v = judge(_with(max_drawdown=0.5), 55.0, 0.008, CFG, Evidence(band_breach="outside", psr=0.0))
    assert v.reason == "monitor:drawdown"
