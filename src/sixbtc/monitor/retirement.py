"""Retirement rules for LIVE strategies (SPEC §3.8 and the Monte Carlo band of SPEC §5)."""

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


@dataclass(frozen=True)
class Evidence:
    """Comparisons of the track record with the backtest's trades (computed by the caller).

    ``band_breach`` describes how the record left its Monte Carlo band
    (:func:`sixbtc.monitor.mc_band.band_breach`), None when inside or not checked; ``psr`` is
    the probabilistic Sharpe ratio of the live per-trade returns against the backtest's
    per-trade Sharpe ratio (Bailey & López de Prado 2012), None when not computable;
    ``notes`` say which checks were skipped and why (they end up in the verdict detail).
    """

    band_breach: str | None = None
    psr: float | None = None
    notes: tuple[str, ...] = ()


def judge(m: LiveMetrics, live_score: float, backtest_expectancy: float | None, cfg: RetirementSection,
          evidence: Evidence | None = None) -> Verdict:
    """Apply the retirement rules; the first that fires gives the reason.

    After ``min_trades`` trades, retire when drawdown exceeds ``max_drawdown``
    (``monitor:drawdown``), the live score is below ``min_score`` (``monitor:low_score``),
    live expectancy is more than ``max_degradation`` worse than the backtest's (relative, only
    when the backtest expectancy is positive; ``monitor:degraded``), the record left its Monte
    Carlo band (``monitor:outside_mc_band``), or — after ``max(min_trades, psr_min_trades)``
    trades and with ``min_psr`` > 0 — the PSR against the backtest Sharpe is below ``min_psr``
    (``monitor:low_psr``: the live Sharpe is significantly worse than the backtest's; the
    stricter trade count keeps a short record from being retired by noise).
    """
    ev = evidence or Evidence()
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
    if ev.band_breach:
        return Verdict(True, "monitor:outside_mc_band", ev.band_breach)
    psr_text = "PSR n/a" if ev.psr is None else f"PSR {ev.psr:.3f}"
    if (ev.psr is not None and cfg.min_psr > 0 and m.n_trades >= max(cfg.min_trades, cfg.psr_min_trades)
            and ev.psr < cfg.min_psr):
        return Verdict(True, "monitor:low_psr", f"{psr_text} < {cfg.min_psr:g} after {m.n_trades} trades "
                                                "(live Sharpe below the backtest's)")
    return Verdict(False, "monitor:ok", "; ".join([f"live score {live_score:.1f}", psr_text, *ev.notes]))
