"""Which parameter sets the configured sizing rule can trade, and how large they trade.

With ``risk.sizing: risk`` a position is sized by its stop distance
(:meth:`sixbtc.domain.sizing.SizingRule.notional`): a parameter set without a stop-loss
(``sl_pct`` 0 or missing) cannot be sized and the executor never trades it, so the backtest
protocol drops such sets before its search (and rejects a strategy left with none).
:func:`size_fraction` is the entry notional of a set as a fraction of equity, what the
directional benchmark is matched to (:mod:`~sixbtc.backtester.benchmark`).
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


def size_fraction(rule: SizingRule | None, params: dict[str, Any], levels: bool = False) -> float:
    """Entry notional of parameter set ``params`` as a fraction of equity (> 0).

    ``rule`` None, ``equity`` sizing and grid strategies (``levels`` True: the level engine
    keeps the all-in allocation, :func:`~sixbtc.backtester.coinset.sizing_kwargs`) trade
    1 (all-in 1x); ``risk`` sizing ``min(risk_per_trade / sl_pct, max_leverage)``, the
    rule's own :meth:`~sixbtc.domain.sizing.SizingRule.notional` at equity 1 (backtests
    leave out the USD cap, which never binds at equity 1 USD).

    Raises
    ------
    ValueError
        If ``risk`` sizing is given a set without a stop (``sl_pct`` not > 0), which
        :func:`sizeable` drops before any backtest.
    """
    if not _risk(rule) or levels:
        return 1.0
    sl = float(params.get("sl_pct") or 0.0)
    if not sl > 0.0:
        raise ValueError(f"size_fraction: risk sizing needs sl_pct > 0, got {params.get('sl_pct')!r}")
    return rule.notional(1.0, sl)
