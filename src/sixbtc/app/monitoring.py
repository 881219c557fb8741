"""Monitor role: judge every LIVE strategy on its paper/live trades, retire those that fail
(SPEC §3.8, §5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select

from sixbtc.adapters.storage.mapping import utc
from sixbtc.adapters.storage.tables import StrategyRow
from sixbtc.app.container import Container
from sixbtc.app.rotation import backtest_reference
from sixbtc.domain.strategy import StrategyRecord, StrategyStatus
from sixbtc.monitor.live_metrics import LiveMetrics, live_metrics
from sixbtc.monitor.mc_band import check_band, path_stats
from sixbtc.monitor.retirement import Evidence, Verdict, judge
from sixbtc.rotator.incubation import incubated, paper_days
from sixbtc.scorer.score import live_score
from sixbtc.scorer.statistics import probabilistic_sharpe_ratio, sharpe_moments

T = StrategyRow.__table__


def live_psr(live_returns: np.ndarray, backtest_returns: np.ndarray) -> tuple[float | None, str]:
    """PSR of the live per-trade returns against the backtest's per-trade Sharpe ratio.

    ``PSR(SR*)`` with SR* = per-trade Sharpe of the backtest OOS trades and the live record's
    own skewness and kurtosis (Bailey & López de Prado 2012, via
    :mod:`sixbtc.scorer.statistics`): the probability that the strategy's true per-trade
    Sharpe ratio is at least the backtest's. Returns ``(psr, "")`` or ``(None, why)`` when it
    is not computable (fewer than 2 trades on a side, constant returns).
    """
    try:
        bench = sharpe_moments(backtest_returns)[0]
    except ValueError as exc:
        return None, f"PSR skipped: backtest trades: {exc}"
    try:
        sr, skew, kurt, n = sharpe_moments(live_returns)
        return probabilistic_sharpe_ratio(sr, bench, n, skew, kurt), ""
    except ValueError as exc:
        return None, f"PSR skipped: live trades: {exc}"


def _evidence(c: Container, rec: StrategyRecord, returns: np.ndarray) -> tuple[Evidence, dict[str, Any]]:
    """Monte Carlo band (:func:`~sixbtc.monitor.mc_band.check_band`, seeded with the strategy
    id) and PSR of a LIVE strategy's trades against its backtest trades. Returns the evidence
    and the figures stored in ``metrics["live"]``."""
    cfg = c.settings.retirement
    row = backtest_reference(c, rec.id)
    bt = (row or {}).get("oos_metrics", {}).get("trade_returns")
    if not bt:
        note = "no backtest trade_returns stored (older backtest): Monte Carlo band and PSR skipped"
        return Evidence(notes=(note,)), {}
    bt_arr = np.asarray(bt, dtype=np.float64)
    psr, psr_note = live_psr(returns, bt_arr)
    band = check_band(returns, bt_arr, paths=cfg.mc_paths, percentile=cfg.mc_percentile, min_trades=cfg.min_trades,
                      seed=rec.id)
    notes = ((psr_note,) if psr_note else ()) + band.notes
    return Evidence(band_breach=band.breach, psr=psr, notes=notes), {"psr": psr, **band.figures}


def _live_since(c: Container, strategy_id: int) -> datetime | None:
    with c.engine.connect() as conn:
        ts = conn.execute(select(T.c.live_since).where(T.c.id == strategy_id)).scalar()
    return utc(ts)


def _track_record(c: Container, rec: StrategyRecord) -> tuple[LiveMetrics, np.ndarray]:
    """Live metrics and per-trade returns (exit order) of a strategy's paper/live trades."""
    trades = c.trading.trades(rec.id)
    sub = c.trading.subaccount_of(rec.id)
    capital = sub["capital_usd"] if sub else c.settings.executor.subaccount_capital_usd
    span = ((trades[-1]["exit_ts"] - trades[0]["entry_ts"]).total_seconds() / 86400.0) if trades else 0.0
    returns = np.array([t["return_frac"] for t in trades], dtype=np.float64)
    return live_metrics(returns, np.array([t["pnl_usd"] for t in trades], dtype=np.float64), capital, span), returns


def review_live(c: Container, rec: StrategyRecord) -> tuple[Verdict, float, dict[str, Any]]:
    """Judge one LIVE strategy: verdict, live score and the ``metrics["live"]`` record.

    ``metrics["live"]`` holds ``n_trades``, ``cum_return`` (sum of per-trade returns),
    ``psr``, the band thresholds ``mc_lower_return``/``mc_upper_drawdown`` (when simulated),
    ``paper_days``, ``incubated`` (``paper_days >= rotator.min_paper_days``, see
    :mod:`sixbtc.rotator.incubation`), ``verdict`` and ``checked_at`` (ISO UTC).
    """
    m, returns = _track_record(c, rec)
    value = live_score(sharpe=m.sharpe, expectancy=m.expectancy, profit_factor=m.profit_factor,
                       win_rate=m.win_rate, max_drawdown=m.max_drawdown, n_trades=m.n_trades,
                       weights=c.settings.scoring)
    evidence, figures = _evidence(c, rec, returns)
    verdict = judge(m, value, (rec.metrics or {}).get("expectancy"), c.settings.retirement, evidence)
    now = c.clock.now()
    since = _live_since(c, rec.id)
    since = min(since, now) if since is not None else None  # a clock set back must not crash the monitor
    days = paper_days(since, now)
    record = {"n_trades": m.n_trades, "cum_return": path_stats(returns)[0], "psr": None, **figures,
              "paper_days": round(days, 4), "incubated": incubated(since, now, c.settings.rotator.min_paper_days),
              "verdict": verdict.reason, "checked_at": now.isoformat()}
    return verdict, value, record


def monitor_now(c: Container) -> list[tuple[StrategyRecord, Verdict, float]]:
    """Judge every LIVE strategy on its paper/live trades; retire those that fail (SPEC §3.8, §5).

    Each retirement writes a StrategyEvent with the verdict's reason and detail; the
    sub-account is freed at once when the strategy holds nothing, else the executor closes
    its positions first (wind-down) and frees it then. Every strategy's ``live_score`` and
    ``metrics["live"]`` are updated. A strategy whose review fails (a malformed record, a
    numerical error) gets a ``monitor:error`` event and stays LIVE; the others are judged.
    """
    out = []
    for rec in c.strategies.list_by_status(StrategyStatus.LIVE):
        try:
            verdict, value = _review_and_store(c, rec)
        except Exception as exc:  # noqa: BLE001 — one bad record never stops the monitor
            with c.engine.begin() as conn:
                c.strategies.event_in(conn, rec.id, phase="monitor", reason="monitor:error",
                                      detail=f"{type(exc).__name__}: {exc}")
            continue
        out.append((rec, verdict, value))
    return out


def _review_and_store(c: Container, rec: StrategyRecord) -> tuple[Verdict, float]:
    verdict, value, record = review_live(c, rec)
    metrics = dict(rec.metrics or {}, live=record)
    with c.engine.begin() as conn:  # a retirement and its freed sub-account: together or not at all
        if verdict.retire:
            c.strategies.transition_in(conn, rec.id, None, StrategyStatus.RETIRED, phase="monitor",
                                       reason=verdict.reason, detail=verdict.detail, live_score=value,
                                       metrics=metrics, claim_token=T.c.claim_token + 1)
            c.trading.free_subaccount_in(conn, rec.id)
        else:
            conn.execute(T.update().where(T.c.id == rec.id).values(live_score=value, metrics=metrics))
    return verdict, value
