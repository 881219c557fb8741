# expect: passed
# true range vs ATR, exit on an EMA cross
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import math
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind


class Strategy_VOL_0badc0de:
    strategy_type = "VOL"
    direction = "long"
    timeframes = ("1h", "4h")
    param_space = {"n": [10, 20], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        high = data["high"]
        low = data["low"]

        tr = ind.true_range(high, low, close)
        atr = ind.atr(high, low, close, params["n"])
        big = np.nan_to_num(tr - 1.5 * atr, nan=-1.0) > 0
        up = close > data["open"]
        return big & up, ind.cross_below(close, ind.ema(close, params["n"]))
