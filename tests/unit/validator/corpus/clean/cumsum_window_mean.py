# expect: passed
# a whole-series cumsum, used only as differences over a fixed window (a rolling mean)
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import math
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind


class Strategy_MOM_0badc0de:
    strategy_type = "MOM"
    direction = "long"
    timeframes = ("1h", "4h")
    param_space = {"n": [20, 40], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        high = data["high"]
        low = data["low"]
        volume = data["volume"]

        n = params["n"]
        csum = np.cumsum(np.concatenate(([0.0], np.log(close))))
        mean = np.full(len(close), np.nan)
        mean[n - 1 :] = (csum[n:] - csum[:-n]) / n
        level = np.log(close)
        return ind.cross_above(level, mean), ind.cross_below(level, mean)
