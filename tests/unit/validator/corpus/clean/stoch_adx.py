# expect: passed
# stochastic cross filtered by ADX
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import math
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind


class Strategy_TRN_0badc0de:
    strategy_type = "TRN"
    direction = "long"
    timeframes = ("1h", "4h")
    param_space = {"n": [10, 20], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        high = data["high"]
        low = data["low"]

        k, d = ind.stoch(high, low, close, params["n"], 3)
        adx = ind.adx(high, low, close, 14)
        trending = np.nan_to_num(adx, nan=0.0) > 20
        return ind.cross_above(k, d) & trending, ind.cross_below(k, d)
