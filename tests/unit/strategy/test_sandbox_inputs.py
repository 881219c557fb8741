"""Extra strategy inputs across the sandbox wire: int64 open time, declared inputs required,
indicator cache keyed by input."""

from __future__ import annotations

import numpy as np
import pytest

from sixbtc.core.errors import DataError
from sixbtc.strategy import indicators as ind
from sixbtc.strategy.inputs import Candles, Events, MarketSample, build_data
from sixbtc.strategy.sandbox import SandboxLimits, StrategySandbox

H = 3_600_000
T0 = 1_700_006_400_000

CODE = """
import numpy as np
from sixbtc.strategy import indicators as ind

class Strategy_MOM_feed0001:
    strategy_type = "MOM"
    direction = "long"
    timeframes = ("1h",)
    inputs = ("open_time", "funding", "btc", "htf:4h")
    param_space = {"n": [5, 10], "sl_pct": [0.02], "tp_pct": [0.04]}

    def signals(self, data, params):
        assert data["open_time"].dtype == np.int64
        hour = (data["open_time"] // 3600000) % 24
        own = ind.sma(data["close"], params["n"])
        btc = ind.sma(data["btc_close"], params["n"])   # same call, another input
        up = (data["close"] > own) & (data["btc_close"] > btc)
        ok = np.nan_to_num(data["funding"]) < 0.0005
        htf = np.nan_to_num(data["htf_4h_close"])
        entries = up & ok & (hour < 20) & (data["close"] > htf * 0.0)
        return entries, ~up
"""


def _market(n: int = 400) -> MarketSample:
    rng = np.random.default_rng(4)

    def candles(scale: float) -> Candles:
        close = scale * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
        open_ = np.concatenate(([scale], close[:-1]))
        return Candles(T0 + H * np.arange(n, dtype=np.int64), H,
                       {"open": open_, "high": np.maximum(open_, close), "low": np.minimum(open_, close),
                        "close": close, "volume": np.full(n, 3.0)})
    fund = Events(T0 + 8 * H * np.arange(n // 8, dtype=np.int64), rng.normal(0, 3e-4, n // 8))
    return MarketSample(candles(10.0), funding=fund, btc=candles(50_000.0))


@pytest.fixture(scope="module")
def box():
    with StrategySandbox(SandboxLimits(wall_s=5.0, memory_mb=1024)) as sb:
        yield sb


def test_declared_inputs_cross_the_wire_and_match_in_process(box):
    spec = box.load(CODE)
    assert spec.inputs == ("open_time", "funding", "btc", "htf:4h") and box.inputs == spec.inputs
    data = build_data(_market(), spec.inputs)
    entries, exits = box.signals(data, spec.grid())
    for k, params in enumerate(spec.grid()):
        own, btc = ind.sma(data["close"], params["n"]), ind.sma(data["btc_close"], params["n"])
        up = (data["close"] > own) & (data["btc_close"] > btc)
        hour = (data["open_time"] // H) % 24
        want = up & (np.nan_to_num(data["funding"]) < 0.0005) & (hour < 20)
        np.testing.assert_array_equal(entries[k], want)
        np.testing.assert_array_equal(exits[k], ~up)
    assert entries.any() and not (entries == exits).all()


def test_missing_declared_input_is_a_data_error_naming_it(box):
    box.load(CODE)
    data = build_data(_market(), ("open_time", "btc", "htf:4h"))
    with pytest.raises(DataError, match="declared input 'funding'"):
        box.signals(data, [{"n": 5, "sl_pct": 0.02, "tp_pct": 0.04}])
    bad = dict(build_data(_market(), box.inputs), funding=np.zeros(3))
    with pytest.raises(DataError, match="differ in length"):
        box.signals(bad, [{"n": 5, "sl_pct": 0.02, "tp_pct": 0.04}])
