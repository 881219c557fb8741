# expect: passed
# pandas ewm(adjust=False) crossover
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import math
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind


class Strategy_TRN_0badc0de:
    strategy_type = "TRN"
    direction = "long"
    timeframes = ("1h", "4h")
    param_space = {"n": [8, 12], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        high = data["high"]
        low = data["low"]

        s = pd.Series(close)
        fast = s.ewm(span=params["n"], adjust=False).mean().to_numpy()
        slow = s.ewm(span=3 * params["n"], adjust=False).mean().to_numpy()
        return ind.cross_above(fast, slow), ind.cross_below(fast, slow)
