# expect: passed
# a loop over len(close) carrying state that resets at every cross (bounded memory)
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

        avg = ind.sma(close, params["n"])
        up = ind.cross_above(close, avg)
        entries = np.zeros(len(close), dtype=bool)
        since = 10**9
        for i in range(len(close)):
            since = 0 if up[i] else since + 1
            entries[i] = since == 2 and close[i] > avg[i]  # confirmed two bars after the cross
        return entries, ind.cross_below(close, avg)
