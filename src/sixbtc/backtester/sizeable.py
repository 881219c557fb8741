"""Which parameter sets the configured sizing rule can trade.

With ``risk.sizing: risk`` a position is sized by its stop distance
(:meth:`sixbtc.domain.sizing.SizingRule.notional`): a parameter set without a stop-loss
(``sl_pct`` 0 or missing) cannot be sized and the executor never trades it, so the backtest
protocol drops such sets before its search (and rejects a strategy left with none).
"""

from __future__ import annotations

from typing import Any

from sixbtc.domain.sizing import SizingRule

NO_STOP = ("no parameter set has a stop-loss (sl_pct > 0): risk.sizing 'risk' sizes a position by its stop "
           "distance and trades none without one (the executor neither)")


def _risk(rule: SizingRule | None) -> bool:
    return rule is not None and rule.mode == "risk"


def sizeable(rule: SizingRule | None, params_list: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The sets of ``params_list`` that ``rule`` can size: all of them, or with ``risk`` sizing those
    with ``sl_pct > 0`` (order kept)."""
    if not _risk(rule):
        return params_list
    return [p for p in params_list if float(p.get("sl_pct") or 0.0) > 0.0]


def sizeable_space(rule: SizingRule | None, space: dict[str, list[Any]] | None) -> dict[str, list[Any]] | None:
    """The search grid ``space`` without the ``sl_pct`` values ``rule`` cannot size (None stays None)."""
    if space is None or "sl_pct" not in space or not _risk(rule):
        return space
    return {**space, "sl_pct": [v for v in space["sl_pct"] if float(v or 0.0) > 0.0]}
