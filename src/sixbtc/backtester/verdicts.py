"""Every gate of a first backtest, in the protocol's order, with its verdict and figures.

:func:`~sixbtc.backtester.protocol.run_backtest` stops at the first gate that fails and
returns its reason; :func:`protocol_gates` turns that outcome into one row per gate (for
``sixbtc backtest FILE.py``): the gates before the stopping one passed (their figures come
from the outcome), the stopping one failed (its detail is the outcome's), the later ones were
not reached, and a test switched off by the plan (``wfa_windows = 0``,
``shuffle_permutations = 0``) is ``off``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sixbtc.backtester.degradation import describe
from sixbtc.backtester.protocol import BacktestOutcome, BacktestPlan, aggregate_oos

PASS, FAIL, OFF, NOT_REACHED = "pass", "FAIL", "off", "not reached"

#: (gate, rejection reason) in the order :func:`~sixbtc.backtester.protocol.run_backtest` applies them.
PROTOCOL_GATES: tuple[tuple[str, str], ...] = (
    ("data", "backtest:no_data"),
    ("search", "backtest:too_few_trades"),
    ("plausibility", "suspect:lookahead"),
    ("oos_trades", "backtest:too_few_trades"),
    ("degradation", "backtest:degradation"),
    ("excess", "backtest:excess"),
    ("walkforward", "backtest:walkforward"),
    ("causality", "backtest:lookahead"),
    ("shuffle", "backtest:shuffle"),
)


@dataclass(frozen=True)
class GateRow:
    """One gate: ``state`` is ``pass``, ``FAIL``, ``off`` or ``not reached``; ``reason`` the
    rejection reason the gate gives; ``detail`` its figures (empty when not reached)."""

    gate: str
    reason: str
    state: str
    detail: str

    def to_json(self) -> dict[str, str]:
        """Plain dict (``gate``, ``reason``, ``state``, ``detail``)."""
        return {"gate": self.gate, "reason": self.reason, "state": self.state, "detail": self.detail}


def _stopped_at(outcome: BacktestOutcome) -> int | None:
    """Index in :data:`PROTOCOL_GATES` of the gate that stopped ``outcome`` (None: passed)."""
    if outcome.reason is None:
        return None
    if outcome.reason == "backtest:too_few_trades":
        return 1 if outcome.best is None else 3
    for i, (_, reason) in enumerate(PROTOCOL_GATES):
        if reason == outcome.reason:
            return i
    raise ValueError(f"unknown protocol reason {outcome.reason!r}")


def _passed_detail(gate: str, outcome: BacktestOutcome, plan: BacktestPlan, oos: dict[str, float] | None) -> str:
    """Figures of a gate that passed (``outcome.best`` and ``oos``, its :func:`aggregate_oos`, are set
    past the search)."""
    best = outcome.best
    if gate == "data":
        return ", ".join(f"{tf}: {len(s)} coins" for tf, s in plan.symbols_by_tf.items() if s)
    if gate == "search":
        return f"{best.timeframe}: mean IS Sharpe {best.is_sharpe:.2f} of {best.n_sets} sets searched"
    if gate == "plausibility":
        p = outcome.plausibility
        return (f"OOS Sharpe {p.sharpe:.2f}, win rate {p.win_rate:.0%} over {p.n_trades} trades, "
                f"{p.bar_share:.0%} of {p.n_bars} in-position bars profitable")
    if gate == "oos_trades":
        return f"{oos['n_trades']:.0f} OOS trades >= {plan.min_trades}"
    if gate == "degradation":
        return describe(outcome.degradation, plan.max_degradation, passed=True)
    if gate == "excess":
        x = outcome.excess
        return (f"OOS return {oos['total_return']:.2%} vs holding its direction {x['benchmark_return']:.2%} at "
                f"exposure {x['exposure']:.0%} x size {x['size']:.2f}: excess {x['excess_return']:.2%} > "
                f"{plan.min_excess_return:.2%}")
    if gate == "walkforward":
        w = outcome.wfa
        return (f"{w.consistency:.0%} of {len(w.folds)} folds profitable >= {plan.wfa_min_consistency:.0%} "
                f"(efficiency {w.efficiency:.2f})")
    if gate == "causality":
        c = outcome.causality
        return f"{len(c.cuts)} cut series agree with the full series ({c.calls} signal calls)"
    s = outcome.shuffle
    return f"permutation p-value {s.pvalue:.3f} <= {plan.shuffle_max_pvalue} ({s.n_permutations} permutations)"


def protocol_gates(outcome: BacktestOutcome, plan: BacktestPlan) -> list[GateRow]:
    """One :class:`GateRow` per entry of :data:`PROTOCOL_GATES`, in order.

    Raises
    ------
    ValueError
        If ``outcome.reason`` is not a protocol reason.
    """
    stop = _stopped_at(outcome)
    oos = aggregate_oos(outcome.best) if outcome.best is not None else None  # once, not per gate
    rows = []
    for i, (gate, reason) in enumerate(PROTOCOL_GATES):
        off = (gate == "walkforward" and plan.wfa_windows == 0) or (gate == "shuffle" and plan.shuffle_permutations == 0)
        if stop is not None and i > stop:
            rows.append(GateRow(gate, reason, OFF if off else NOT_REACHED, ""))
        elif i == stop:
            rows.append(GateRow(gate, reason, FAIL, outcome.detail))
        elif off:
            rows.append(GateRow(gate, reason, OFF, f"switched off ({'wfa_windows' if gate == 'walkforward' else 'shuffle_permutations'} = 0)"))
        else:
            rows.append(GateRow(gate, reason, PASS, _passed_detail(gate, outcome, plan, oos)))
    return rows
