"""Issue 8: ``StrategySpec.from_declared`` checks every declared value, naming attribute and value."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from sixbtc.domain.strategy import StrategyType
from sixbtc.domain.trading import Direction
from sixbtc.strategy.contract import MAX_PARAM_SETS, PARAM_RANGES, StrategySpec


def _declared(**over: Any) -> dict[str, Any]:
    base = {"strategy_type": "MOM", "direction": "long", "timeframes": ["1h", "4h"],
            "param_space": {"n": [10, 20], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}}
    return base | over


def _space(**over: Any) -> dict[str, Any]:
    return _declared(param_space={"n": [10, 20], "sl_pct": [0.01], "tp_pct": [0.03]} | over)


def test_a_valid_declaration_builds_the_spec() -> None:
    spec = StrategySpec.from_declared("Strategy_MOM_1a2b3c4d", _declared())
    assert (spec.strategy_type, spec.direction, spec.timeframes) == (StrategyType.MOM, Direction.LONG, ("1h", "4h"))
    assert len(spec.grid()) == 4
    edge = _space(sl_pct=[PARAM_RANGES["sl_pct"][1]], tp_pct=[PARAM_RANGES["tp_pct"][1]], flag=[True, False],
                  ma=["ema", "sma"], w=[0.5, 1, -2])
    assert len(StrategySpec.from_declared("Strategy_MOM_1a2b3c4d", edge).grid()) == 2 * 2 * 2 * 3


@pytest.mark.parametrize(("declared", "expected"), [
    (_space(sl_pct=[math.nan]), "param_space['sl_pct']: nan is outside 0 < sl_pct <= 0.5"),
    (_space(sl_pct=[50]), "param_space['sl_pct']: 50 is outside 0 < sl_pct <= 0.5"),
    (_space(sl_pct=[0.51]), "param_space['sl_pct']: 0.51 is outside 0 < sl_pct <= 0.5"),
    (_space(sl_pct=[True]), "param_space['sl_pct']: True is not a number"),
    (_space(sl_pct=[0.0]), "param_space['sl_pct']: 0.0 is outside 0 < sl_pct <= 0.5"),
    (_space(sl_pct=[-0.01]), "param_space['sl_pct']: -0.01 is outside"),
    (_space(sl_pct=["0.01"]), "param_space['sl_pct']: '0.01' is not a number"),
    (_space(tp_pct=[1e9]), "param_space['tp_pct']: 1000000000.0 is outside 0 < tp_pct <= 5"),
    (_space(tp_pct=[math.inf]), "param_space['tp_pct']: inf is outside 0 < tp_pct <= 5"),
    (_space(tp_pct=[]), "param_space['tp_pct'] must be a non-empty list"),
    (_space(n=[10, math.nan]), "param_space['n']: nan is not a finite number"),
    (_space(n=[-math.inf]), "param_space['n']: -inf is not a finite number"),
    (_space(n=[None]), "param_space['n']: None is not a number, string or bool"),
    (_space(n=[[1, 2]]), "param_space['n']: [1, 2] is not a number, string or bool"),
    (_space(n=[10, 10]), "param_space['n'] repeats a value: [10, 10]"),
    (_space(n=5), "param_space['n'] must be a non-empty list, got 5"),
    (_space(**{"bad name": [1]}), "param_space: name 'bad name' is not an identifier"),
    (_declared(param_space={"n": [1], "tp_pct": [0.03]}), "param_space['sl_pct'] is required"),
    (_declared(param_space={}), "param_space must be a non-empty dict"),
    (_declared(timeframes=["7m", "banana"]), "timeframes: unknown timeframe '7m' (accepted: 1m, 5m, 15m"),
    (_declared(timeframes=["1h", "banana"]), "timeframes: unknown timeframe 'banana'"),
    (_declared(timeframes=["1h", "1h"]), "timeframes: repeated timeframe in ('1h', '1h')"),
    (_declared(timeframes=[60]), "timeframes: 60 is not a timeframe string"),
    (_declared(timeframes="1h"), "timeframes must be a non-empty tuple of timeframe strings, got '1h'"),
    (_declared(timeframes=[]), "timeframes must be a non-empty tuple"),
    (_declared(strategy_type="XYZ"), "strategy_type: 'XYZ' is not one of MOM, REV, TRN, BRK, VOL, GRD"),
    (_declared(strategy_type=True), "strategy_type: True is not one of"),
    (_declared(direction="both"), "direction: 'both' is not one of long, short"),
])
def test_bad_declarations_are_refused_naming_attribute_and_value(declared: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValueError) as info:
        StrategySpec.from_declared("Strategy_MOM_1a2b3c4d", declared)
    assert expected in str(info.value)


def test_a_grid_too_large_to_build_is_refused_before_it_is_built() -> None:
    huge = _space(**{f"p{i}": list(range(100)) for i in range(10)})  # 10**20 parameter sets
    with pytest.raises(ValueError, match=f"more than {MAX_PARAM_SETS:,} parameter sets"):
        StrategySpec.from_declared("Strategy_MOM_1a2b3c4d", huge)
    at_cap = _space(a=list(range(MAX_PARAM_SETS // 20)), b=list(range(10)))  # x 2 values of n
    assert StrategySpec.from_declared("Strategy_MOM_1a2b3c4d", at_cap).param_space["b"] == list(range(10))


GRD = {"strategy_type": "GRD", "direction": "short", "timeframes": ["1h"],
       "param_space": {"n": [20], "k": [1.0], "levels": [1, 4, 20], "sl_pct": [0.02]}}


def test_a_grid_declaration_needs_levels_and_sl_and_refuses_tp() -> None:
    spec = StrategySpec.from_declared("Strategy_GRD_1", GRD)
    assert spec.is_grid and spec.strategy_type is StrategyType.GRD and len(spec.grid()) == 3
    assert not StrategySpec.from_declared("Strategy_MOM_1", {**GRD, "strategy_type": "MOM", "param_space": {
        "sl_pct": [0.01], "tp_pct": [0.02]}}).is_grid
    for space, expected in [
        ({"levels": [2]}, "param_space['sl_pct'] is required"),
        ({"sl_pct": [0.02]}, "param_space['levels'] is required"),
        ({"levels": [2], "sl_pct": [0.02], "tp_pct": [0.05]}, "takes profit at its center"),
        ({"levels": [0], "sl_pct": [0.02]}, "'levels']: 0 is not an int in 1..20"),
        ({"levels": [21], "sl_pct": [0.02]}, "is not an int in 1..20"),
        ({"levels": [2.5], "sl_pct": [0.02]}, "is not an int"),
        ({"levels": [True], "sl_pct": [0.02]}, "is not an int"),
        ({"levels": [2], "sl_pct": [0.9]}, "outside"),
    ]:
        with pytest.raises(ValueError, match=re.escape(expected)):
            StrategySpec.from_declared("Strategy_GRD_1", {**GRD, "param_space": space})
