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
``(n_bars,)`` (oldest first, closed candles only). A strategy that reads more declares it in
an optional class attribute, e.g. ``inputs = ("open_time", "funding", "btc", "htf:4h")``,
and ``data`` then also holds ``open_time`` (int64 UTC ms), ``funding``, ``open_interest``,
``btc_open`` … ``btc_volume`` and ``htf_4h_open`` … ``htf_4h_volume``, all aligned causally
on the bars (:mod:`sixbtc.strategy.inputs`). ``params`` maps every key of
``param_space`` to one value. ``signals`` returns ``(entries, exits)``: two bool arrays of
shape ``(n_bars,)``. ``entries[i]`` means "open a position at the open of bar ``i + 1``",
decided with data up to and including the close of bar ``i``; ``exits[i]`` likewise closes
an open position at the open of bar ``i + 1``. ``sl_pct`` and ``tp_pct`` are required
parameters, fractions of the entry price with ``0 < sl_pct <= 0.5`` and ``0 < tp_pct <= 5``
(:data:`PARAM_RANGES`); the engine checks them intrabar on high/low.

Declared values are checked by :meth:`StrategySpec.from_declared`: ``strategy_type`` and
``direction`` must be their enum values, ``timeframes`` distinct
:class:`~sixbtc.domain.timeframe.Timeframe` strings, and every ``param_space`` value a
distinct finite number, string or bool (``sl_pct``/``tp_pct``: numbers only, in range), and
the grid at most :data:`MAX_PARAM_SETS` parameter sets.

Grid strategies (``strategy_type = "GRD"``) declare a grid instead of entries and exits::

    class Strategy_GRD_1a2b3c4d:
        strategy_type = "GRD"
        direction = "long"                 # long: buy levels below the center; short: above
        timeframes = ("1h", "4h")
        param_space = {
            "sma": [20, 50], "atr": [14], "k": [0.5, 1.0],
            "levels": [2, 3, 4],           # required: levels per grid, ints in 1..20
            "sl_pct": [0.02, 0.05],        # required: global stop beyond the deepest level
        }

        def signals(self, data, params):
            center = ind.sma(data["close"], params["sma"])
            step = params["k"] * ind.atr(data["high"], data["low"], data["close"], params["atr"])
            return {"center": center, "step": step}

``signals`` then returns a dict with exactly the keys ``"center"`` and ``"step"``: float
arrays of shape ``(n_bars,)`` known at the close of their bar (NaN during warm-up = no grid;
infinities are refused). The engine (:mod:`sixbtc.backtester.engine_grid`) places from bar
``i + 1`` the levels ``center[i] - j * step[i]``, ``j = 1..levels`` (short: ``+``), each
``1 / levels`` of the allocation, a global stop ``sl_pct`` beyond the deepest level (frozen at
a cycle's first fill), and closes every filled level at the take-profit, the center.
``levels`` and ``sl_pct`` are required, ``tp_pct`` is refused (the center is the target).

Only ``numpy``, ``pandas``, ``math`` and ``sixbtc.strategy.indicators`` may be imported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product
from typing import Any

from sixbtc.domain.strategy import StrategyType
from sixbtc.domain.timeframe import Timeframe
from sixbtc.domain.trading import Direction
from sixbtc.strategy.inputs import parse_inputs

REQUIRED_PARAMS: tuple[str, ...] = ("sl_pct", "tp_pct")
#: Required parameters of a grid (``GRD``) strategy; ``tp_pct`` is refused there.
GRID_REQUIRED_PARAMS: tuple[str, ...] = ("levels", "sl_pct")
#: Largest ``levels`` of a grid (as :data:`sixbtc.backtester.kernel_grid.MAX_LEVELS`).
MAX_GRID_LEVELS = 20
#: The keys of a grid strategy's ``signals`` result.
GRID_OUTPUT_KEYS: tuple[str, ...] = ("center", "step")
OHLCV_KEYS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
ALLOWED_IMPORTS: frozenset[str] = frozenset(
    {"numpy", "pandas", "math", "sixbtc.strategy.indicators", "sixbtc.strategy"}
)
#: Accepted ``(low, high]`` of the required parameters, fractions of the entry price. A stop
#: more than 50 % away is no stop on a leveraged perpetual (5x is liquidated at -20 %), and a
#: target beyond +500 % per trade is never reached on the candles the factory trades; both
#: bounds are far outside the generator's grids (``sl_pct`` <= 0.05, ``tp_pct`` <= 0.1).
PARAM_RANGES: dict[str, tuple[float, float]] = {"sl_pct": (0.0, 0.5), "tp_pct": (0.0, 5.0)}
#: Largest grid (cartesian product of ``param_space``) a strategy may declare: the grid is
#: built in the host process (validator, backtester), so a declared 10**20 sets must not be
#: accepted. Generated grids are far smaller (``generator.max_grid``); the backtest samples
#: ``backtest.max_param_sets`` of a larger grid.
MAX_PARAM_SETS = 100_000


def _check_value(key: str, value: Any) -> None:
    """One ``param_space`` value: a finite number, a string or a bool; required ones in range."""
    where = f"param_space[{key!r}]"
    if key in PARAM_RANGES:
        low, high = PARAM_RANGES[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{where}: {value!r} is not a number")
        if not math.isfinite(value) or not low < value <= high:
            raise ValueError(f"{where}: {value!r} is outside {low:g} < {key} <= {high:g}")
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where}: {value!r} is not a finite number")
    if not isinstance(value, bool | int | float | str):
        raise ValueError(f"{where}: {value!r} is not a number, string or bool")


def _check_levels(values: Any) -> None:
    for value in values if isinstance(values, list | tuple) else []:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_GRID_LEVELS:
            raise ValueError(f"param_space['levels']: {value!r} is not an int in 1..{MAX_GRID_LEVELS}")


def _check_space(space: Any, grid: bool = False) -> dict[str, list[Any]]:
    if not isinstance(space, dict) or not space:
        raise ValueError("param_space must be a non-empty dict of name -> list of values")
    for key in GRID_REQUIRED_PARAMS if grid else REQUIRED_PARAMS:
        if key not in space:
            raise ValueError(f"param_space[{key!r}] is required (a list of numbers)")
    if grid:
        if "tp_pct" in space:
            raise ValueError("param_space['tp_pct']: a GRD strategy takes profit at its center; drop tp_pct")
        _check_levels(space["levels"])
    for key, values in space.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise ValueError(f"param_space: name {key!r} is not an identifier")
        if not isinstance(values, list | tuple) or not values:
            raise ValueError(f"param_space[{key!r}] must be a non-empty list, got {values!r}")
        for value in values:
            _check_value(key, value)
        keys = [(type(v).__name__, v) for v in values]
        if len(set(keys)) != len(keys):
            raise ValueError(f"param_space[{key!r}] repeats a value: {list(values)!r}")
    size = 1
    for values in space.values():
        size *= len(values)
        if size > MAX_PARAM_SETS:
            raise ValueError(f"param_space: the grid has more than {MAX_PARAM_SETS:,} parameter sets "
                             f"({' x '.join(str(len(v)) for v in space.values())})")
    return {k: list(v) for k, v in space.items()}


def _check_timeframes(tfs: Any) -> tuple[str, ...]:
    if not isinstance(tfs, list | tuple) or not tfs:
        raise ValueError(f"timeframes must be a non-empty tuple of timeframe strings, got {tfs!r}")
    for tf in tfs:
        if not isinstance(tf, str):
            raise ValueError(f"timeframes: {tf!r} is not a timeframe string")
        try:
            Timeframe.parse(tf)
        except ValueError as exc:
            raise ValueError(f"timeframes: {exc}") from None
    if len(set(tfs)) != len(tfs):
        raise ValueError(f"timeframes: repeated timeframe in {tuple(tfs)!r}")
    return tuple(tfs)


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
    inputs: tuple[str, ...] = ()

    @classmethod
    def from_declared(cls, class_name: str, declared: dict[str, Any]) -> StrategySpec:
        """Build and check a spec from the class attributes a worker reported.

        Raises
        ------
        ValueError
            Naming the attribute and the value: an unknown ``strategy_type``/``direction``
            or timeframe, a repeated timeframe or parameter value, a missing ``sl_pct`` or
            ``tp_pct``, a parameter value that is NaN, infinite, not a number/string/bool,
            or (``sl_pct``, ``tp_pct``) a bool or outside :data:`PARAM_RANGES`; a grid of
            more than :data:`MAX_PARAM_SETS` parameter sets; an ``inputs`` entry that is
            unknown, repeated or not a higher timeframe of every declared timeframe
            (:func:`sixbtc.strategy.inputs.parse_inputs`). ``GRD``: a missing ``levels``
            or ``sl_pct``, a ``levels`` value not an int in 1..:data:`MAX_GRID_LEVELS`, a
            ``tp_pct``.
        """
        space = _check_space(declared.get("param_space"), declared.get("strategy_type") == StrategyType.GRD.value)
        values = {}
        for attr, enum in (("strategy_type", StrategyType), ("direction", Direction)):
            raw = declared.get(attr)
            if not isinstance(raw, str) or raw not in {e.value for e in enum}:
                accepted = ", ".join(e.value for e in enum)
                raise ValueError(f"{attr}: {raw!r} is not one of {accepted}")
            values[attr] = enum(raw)
        tfs = _check_timeframes(declared.get("timeframes"))
        inputs = parse_inputs(declared.get("inputs"), tfs)
        return cls(class_name, values["strategy_type"], values["direction"], tfs, space, inputs)

    @property
    def is_grid(self) -> bool:
        """True for a grid strategy (``GRD``): ``signals`` returns ``{"center", "step"}``."""
        return self.strategy_type == StrategyType.GRD

    def grid(self) -> list[dict[str, Any]]:
        """All parameter sets of the space, in a deterministic order (cartesian product)."""
        keys = sorted(self.param_space)
        return [dict(zip(keys, combo, strict=True)) for combo in product(*(self.param_space[k] for k in keys))]
