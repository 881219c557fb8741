"""The closest candidates: refused strategies ranked by their deflated Sharpe ratio.

When the pool is empty, ``sixbtc status`` shows which strategies came closest and which gate
stopped each, so a new user sees the factory at work. A rejected strategy is deleted, so its
figures travel in its rejection event: :func:`with_figures` appends ``" | figures {json}"``
(``timeframe``, ``dsr``, ``pbo``, ``oos_sharpe``, ``oos_trades``, ``score``) to the event's
detail, :func:`parse_figures` reads it back. A strategy refused by the pool rules (score below
``active_pool.min_score``, pool full) is RETIRED and keeps its ``metrics``, which are read
instead.

The DSR of a strategy stopped by a protocol gate (degradation, walk-forward, shuffle, ...) is
computed on the same track record as the multiple-testing gate's, with N = the strategy's own
search (its trial-ledger configurations; the factory's effective N of ``scoring.factory_trials``
is computed only for strategies that reach the gate) and without the PBO (the dear part;
``pbo`` is then None): :func:`~sixbtc.app.backtest_records.gate_for`. It is a figure, never a
verdict: the strategy stays refused.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from sixbtc.app.backtest_records import gate_for, outcome_inputs
from sixbtc.app.container import Container
from sixbtc.backtester.protocol import BacktestOutcome, aggregate_oos
from sixbtc.domain.strategy import StrategyRecord
from sixbtc.scorer.gate import GateVerdict
from sixbtc.scorer.score import score

MARKER = " | figures "
#: Detail text kept before the figures (the event's detail column holds 2,000 characters).
MAX_TEXT = 1500


def with_figures(detail: str, figures: dict[str, Any] | None) -> str:
    """``detail`` (cut to :data:`MAX_TEXT` characters) + :data:`MARKER` + compact JSON of ``figures``."""
    if figures is None:
        return detail
    return detail[:MAX_TEXT] + MARKER + json.dumps(figures, separators=(",", ":"))


def parse_figures(detail: str) -> tuple[str, dict[str, Any] | None]:
    """Inverse of :func:`with_figures`: ``(text, figures)``, figures None when absent or unreadable."""
    text, sep, raw = detail.rpartition(MARKER)
    if not sep:
        return detail, None
    try:
        figures = json.loads(raw)
    except ValueError:
        return detail, None
    return (text, figures) if isinstance(figures, dict) else (detail, None)


def refused_figures(c: Container, rec: StrategyRecord, outcome: BacktestOutcome,
                    gate: GateVerdict | None = None) -> dict[str, Any] | None:
    """Figures of a refused backtest that chose parameters (None when it chose none).

    ``gate`` is the multiple-testing gate's verdict when it ran; otherwise the DSR is computed
    without the PBO (module docstring).
    """
    best = outcome.best
    if best is None or not best.series:
        return None
    if gate is None:
        gate = gate_for(replace(outcome, best=replace(best, screen_returns=None)), c.settings.scoring,
                        c.trials.configs_for(rec.id))
    oos = aggregate_oos(best)
    value = score(outcome_inputs(outcome, gate.pbo), c.settings.scoring)
    return {"timeframe": best.timeframe, "dsr": round(gate.dsr, 6),
            "pbo": None if gate.pbo is None else round(gate.pbo, 6), "dsr_trials": gate.n_trials,
            "oos_sharpe": round(oos["sharpe"], 4), "oos_trades": int(oos["n_trades"]), "score": round(value, 2)}


def _from_event(c: Container, e: dict[str, Any]) -> dict[str, Any] | None:
    if e["to_status"] is None:
        text, fig = parse_figures(e["detail"] or "")
    else:  # refused by the pool rules: RETIRED with its metrics
        rec = c.strategies.get(e["strategy_id"]) if e["strategy_id"] is not None else None
        m = (rec.metrics or {}) if rec is not None else {}
        text = e["detail"] or ""
        fig = None if rec is None or m.get("dsr") is None else {
            "timeframe": rec.timeframe, "dsr": m.get("dsr"), "pbo": m.get("pbo"), "dsr_trials": m.get("dsr_trials"),
            "oos_sharpe": m.get("sharpe"), "oos_trades": m.get("n_trades"), "score": rec.score}
    if fig is None or fig.get("dsr") is None:
        return None
    return {"strategy": e["strategy_name"], "reason": e["reason"], "detail": text,
            "ts": e["ts"].isoformat() if e["ts"] else None, **fig}


def closest_candidates(c: Container, top: int = 5, scan: int = 2000) -> list[dict[str, Any]]:
    """The ``top`` refused strategies with the best DSR among the newest ``scan`` refusals.

    Returns
    -------
    list of dict
        Best DSR first: ``strategy``, ``reason`` (the gate that stopped it), ``detail`` (its
        figures as text), ``ts`` (ISO-8601 UTC), ``timeframe``, ``dsr`` (probability, 0-1),
        ``pbo`` (0-1 or None), ``dsr_trials`` (N), ``oos_sharpe`` (annualised, pooled),
        ``oos_trades``, ``score`` (0-100).
    """
    found = [x for e in c.strategies.refusals(scan) if (x := _from_event(c, e)) is not None]
    found.sort(key=lambda x: -float(x["dsr"]))
    return found[:top]
