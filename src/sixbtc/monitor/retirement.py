"""Retirement rules for LIVE strategies (SPEC §3.8)."""

from __future__ import annotations

from dataclasses import dataclass

from sixbtc.config.sections import RetirementSection
from sixbtc.monitor.live_metrics import LiveMetrics


@dataclass(frozen=True)
class Verdict:
    """Outcome of one check: ``retire`` and the ``reason`` (``monitor:...``) with detail."""

    retire: bool
    reason: str
    detail: str


def judge(m: LiveMetrics, live_score: float, backtest_expectancy: float | None, cfg: RetirementSection) -> Verdict:
    """Apply SPEC §3.8: after ``min_trades`` trades, retire when the live score is below
    ``min_score``, or live expectancy is more than ``max_degradation`` worse than the backtest's
    (relative, only when the backtest expectancy is positive), or drawdown exceeds ``max_drawdown``.
    """
    if m.n_trades < cfg.min_trades:
        return Verdict(False, "monitor:warming_up", f"{m.n_trades}/{cfg.min_trades} trades")
    if m.max_drawdown > cfg.max_drawdown:
        return Verdict(True, "monitor:drawdown", f"drawdown {m.max_drawdown:.1%} > {cfg.max_drawdown:.1%}")
    if live_score < cfg.min_score:
        return Verdict(True, "monitor:low_score", f"live score {live_score:.1f} < {cfg.min_score:.1f}")
    if backtest_expectancy and backtest_expectancy > 0:
        degradation = 1.0 - m.expectancy / backtest_expectancy
        if degradation > cfg.max_degradation:
            return Verdict(True, "monitor:degraded",
                           f"expectancy {m.expectancy:.4%} vs backtest {backtest_expectancy:.4%} "
                           f"({degradation:.0%} worse > {cfg.max_degradation:.0%})")
    return Verdict(False, "monitor:ok", f"live score {live_score:.1f}")
