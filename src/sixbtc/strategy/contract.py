"""The strategy contract: what every strategy's Python source must define.

A strategy is Python source defining exactly one class named ``Strategy_{TYPE}_{shortid}``
with these class attributes and one method::

    import numpy as np
    from sixbtc.strategy import indicators as ind

    class Strategy_MOM_1a2b3c4d:
        strategy_type = "MOM"              # one of MOM REV TRN BRK VOL GRD
        direction = "long"                 # "long" or "short"
        timeframes = ("15m", "30m", "1h", "4h")   # timeframes it may be assigned
        param_space = {                    # name -> list of candidate values (the grid)
            "fast": [5, 10, 20],
            "slow": [50, 100],
            "sl_pct": [0.01, 0.02],        # stop-loss distance, fraction of entry price
            "tp_pct": [0.02, 0.04],        # take-profit distance, fraction of entry price
        }

        def signals(self, data, params):
            close = data["close"]
            fast = ind.sma(close, params["fast"])
            slow = ind.sma(close, params["slow"])
            entries = ind.cross_above(fast, slow)
            exits = ind.cross_below(fast, slow)
            return entries, exits

``data`` maps ``"open" "high" "low" "close" "volume"`` to float64 arrays of shape
``(n_bars,)`` (oldest first, closed candles only). ``params`` maps every key of
``param_space`` to one value. ``signals`` returns ``(entries, exits)``: two bool arrays of
shape ``(n_bars,)``. ``entries[i]`` means "open a position at the open of bar ``i + 1``",
decided with data up to and including the close of bar ``i``; ``exits[i]`` likewise closes
an open position at the open of bar ``i + 1``. ``sl_pct`` and ``tp_pct`` are required
parameters (fractions > 0); the engine checks them intrabar on high/low.

Only ``numpy``, ``pandas``, ``math`` and ``sixbtc.strategy.indicators`` may be imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Any

from sixbtc.domain.strategy import StrategyType
from sixbtc.domain.trading import Direction

REQUIRED_PARAMS: tuple[str, ...] = ("sl_pct", "tp_pct")
OHLCV_KEYS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
ALLOWED_IMPORTS: frozenset[str] = frozenset(
    {"numpy", "pandas", "math", "sixbtc.strategy.indicators", "sixbtc.strategy"}
)


@dataclass(frozen=True)
class StrategySpec:
    """What a loaded strategy class declares (read in the sandbox, returned as JSON).

    Raises
    ------
    ValueError
        From :meth:`from_declared` when a declaration breaks the contract; the message
        names the attribute.
    """

    class_name: str
    strategy_type: StrategyType
    direction: Direction
    timeframes: tuple[str, ...]
    param_space: dict[str, list[Any]]

    @classmethod
    def from_declared(cls, class_name: str, declared: dict[str, Any]) -> StrategySpec:
        """Build and check a spec from the class attributes a worker reported."""
        space = declared.get("param_space")
        if not isinstance(space, dict) or not space:
            raise ValueError("param_space must be a non-empty dict of name -> list of values")
        for key in REQUIRED_PARAMS:
            values = space.get(key)
            if not values or any(not isinstance(v, int | float) or v <= 0 for v in values):
                raise ValueError(f"param_space[{key!r}] must be a non-empty list of numbers > 0")
        for key, values in space.items():
            if not isinstance(values, list) or not values:
                raise ValueError(f"param_space[{key!r}] must be a non-empty list")
        try:
            stype = StrategyType(declared.get("strategy_type"))
            direction = Direction(declared.get("direction"))
        except ValueError as exc:
            raise ValueError(f"strategy_type/direction: {exc}") from None
        tfs = declared.get("timeframes")
        if not isinstance(tfs, list | tuple) or not tfs:
            raise ValueError("timeframes must be a non-empty tuple of timeframe strings")
        return cls(class_name, stype, direction, tuple(str(t) for t in tfs), dict(space))

    def grid(self) -> list[dict[str, Any]]:
        """All parameter sets of the space, in a deterministic order (cartesian product)."""
        keys = sorted(self.param_space)
        return [dict(zip(keys, combo, strict=True)) for combo in product(*(self.param_space[k] for k in keys))]
