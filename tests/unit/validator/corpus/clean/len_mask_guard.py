# expect: passed
# len(close) used safely: a mask of the first bars, not a gate on the length
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import math
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind


class Strategy_MOM_0badc0de:
    strategy_type = "MOM"
    direction = "long"
    timeframes = ("1h", "4h")
    param_space = {"n": [10, 20], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        high = data["high"]
        low = data["low"]
        volume = data["volume"]

        ready = np.arange(len(close)) >= 3 * params["n"]  # per-bar: bar i is ready after 3n bars
        fast = ind.ema(close, params["n"])
        slow = ind.ema(close, 2 * params["n"])
        return ind.cross_above(fast, slow) & ready, ind.cross_below(fast, slow)
