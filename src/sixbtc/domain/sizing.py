"""Position sizing and isolated-margin liquidation: the one rule of backtests, paper and live.

Plain float arithmetic only (no numpy, no config objects), so that the backtest kernel can
compile these very functions with numba (``njit(position_notional)``) while the executor and
the paper venue call them as Python: one implementation, the same figures everywhere.

Sizing modes (``mode`` argument, integer codes shared with the kernel):

- :data:`SIZE_EQUITY_FRAC` — ``size_value × equity × leverage`` (``size_value`` =
  ``position_frac``; 1 and leverage 1 is all-in 1×, compounding);
- :data:`SIZE_FIXED_NOTIONAL` — ``min(size_value, leverage × equity)`` (``size_value`` in USD);
- :data:`SIZE_RISK` — ``min(equity × size_value / sl_pct, leverage × equity)`` (``size_value``
  = ``risk_per_trade``): a stop filled at its level loses ``risk_per_trade`` of equity before
  fees and slippage (fixed-fractional sizing, Van Tharp 2007; SPEC §3.7 risk manager).

Every mode is then capped at ``max_notional`` (USD; ``inf`` = no cap).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

SIZE_EQUITY_FRAC = 0
SIZE_FIXED_NOTIONAL = 1
SIZE_RISK = 2

#: Maintenance margin of an isolated position as a fraction of its notional (0.5 %): the
#: backtest kernel's and the paper venue's liquidation threshold.
MAINTENANCE_MARGIN = 0.005


def position_notional(equity, sl_pct, mode, size_value, leverage, max_notional):  # noqa: ANN001, ANN201
    """Entry notional in USD of a new position.

    Parameters
    ----------
    equity : float
        Account equity in USD before the entry fee (the backtest's cash).
    sl_pct : float
        Stop distance as a fraction of the entry fill price (used by ``SIZE_RISK`` only, must
        then be > 0).
    mode : int
        ``SIZE_EQUITY_FRAC``, ``SIZE_FIXED_NOTIONAL`` or ``SIZE_RISK`` (module docstring).
    size_value : float
        The mode's parameter: ``position_frac`` (fraction), ``notional_usd`` (USD) or
        ``risk_per_trade`` (fraction of equity).
    leverage : float
        Leverage (>= 1): multiplies ``SIZE_EQUITY_FRAC`` and caps the other modes at
        ``leverage × equity``.
    max_notional : float
        Cap in USD (``math.inf`` for none).

    Returns
    -------
    float
        Notional in USD (not checked here: callers check equity > 0 and ``sl_pct`` > 0).
    """
    if mode == SIZE_FIXED_NOTIONAL:
        notional = min(size_value, leverage * equity)
    elif mode == SIZE_RISK:
        notional = min(equity * size_value / sl_pct, leverage * equity)
    else:
        notional = size_value * equity * leverage
    return min(notional, max_notional)


def liquidation_price(entry_price, direction, leverage):  # noqa: ANN001, ANN201
    """Price at which an isolated position is liquidated.

    ``entry × (1 - direction × (1 / leverage - MAINTENANCE_MARGIN))``: a long (``direction``
    +1) is liquidated when the price falls ``1 / leverage - 0.5 %`` below its entry (a short
    when it rises as much). The backtest kernel's rule (:mod:`sixbtc.backtester.engine`,
    "Leverage and liquidation"); Hyperliquid's own formula also counts the margin left in the
    account, which an isolated position does not share.

    Parameters
    ----------
    entry_price : float
        Entry (fill) price in USD.
    direction : int
        +1 long, -1 short.
    leverage : float
        Position leverage (>= 1).

    Returns
    -------
    float
        Liquidation price in USD (``nan`` when ``leverage`` is not > 0).
    """
    if not leverage > 0.0:
        return math.nan
    return entry_price * (1.0 - direction * (1.0 / leverage - MAINTENANCE_MARGIN))


@dataclass(frozen=True)
class SizingRule:
    """The position sizing of backtests, paper and live (``risk.*`` of the configuration).

    ``mode`` ``"risk"``: notional = ``min(equity × risk_per_trade / sl_pct, equity ×
    max_leverage, max_notional_usd)``, positions at ``max_leverage`` (isolated). ``mode``
    ``"equity"``: all-in 1× (notional = ``min(equity, max_notional_usd)``, leverage 1), the
    factory's sizing before the rule existed.
    """

    mode: str = "risk"
    risk_per_trade: float = 0.01
    max_leverage: float = 5.0
    max_notional_usd: float = math.inf

    def __post_init__(self) -> None:
        if self.mode not in ("risk", "equity"):
            raise ValueError(f"risk.sizing must be 'risk' or 'equity', got {self.mode!r}")

    @property
    def leverage(self) -> float:
        """Leverage of the positions: ``max_leverage`` (risk) or 1 (equity)."""
        return self.max_leverage if self.mode == "risk" else 1.0

    def notional(self, equity_usd: float, sl_pct: float) -> float:
        """Entry notional (USD) for equity ``equity_usd`` and stop distance ``sl_pct`` (fraction).

        0 when equity is not > 0, or in risk mode when ``sl_pct`` is not > 0 (a position
        without a stop cannot be sized by risk: no entry).
        """
        if not equity_usd > 0 or (self.mode == "risk" and not sl_pct > 0):  # also false for NaN
            return 0.0
        if self.mode == "risk":
            return position_notional(equity_usd, sl_pct, SIZE_RISK, self.risk_per_trade, self.max_leverage,
                                     self.max_notional_usd)
        return position_notional(equity_usd, sl_pct, SIZE_EQUITY_FRAC, 1.0, 1.0, self.max_notional_usd)

    def engine_kwargs(self, *, cap: bool = False) -> dict[str, Any]:
        """Keyword arguments of :func:`sixbtc.backtester.engine.run_single` (and ``run_grid``,
        ``run_grid_daily``) for this rule.

        ``cap`` False leaves out ``max_notional_usd``: an absolute USD cap belongs to the live
        account's size, while a backtest starts at its own ``init_cash`` (10 000 USD) whatever
        the sub-account's capital; a cross-check at the live capital passes ``cap=True``.
        """
        kw: dict[str, Any] = {"sizing": "risk", "risk_per_trade": self.risk_per_trade,
                              "leverage": self.max_leverage} if self.mode == "risk" else \
            {"sizing": "equity_frac", "leverage": 1.0}
        if cap and math.isfinite(self.max_notional_usd):
            kw["max_notional_usd"] = self.max_notional_usd
        return kw
