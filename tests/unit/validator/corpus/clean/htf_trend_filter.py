# expect: passed
# 1h EMA cross, only while the close is above the SMA of the last closed 4h closes
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import math
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind


class Strategy_TRN_0badc0de:
    strategy_type = "TRN"
    direction = "long"
    timeframes = ("15m", "1h")
    inputs = ("htf:4h",)
    param_space = {"fast": [8, 12], "n": [20, 40], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        h4 = data["htf_4h_close"]
        trend = close > ind.sma(h4, params["n"])
        fast, slow = ind.ema(close, params["fast"]), ind.ema(close, 26)
        return ind.cross_above(fast, slow) & trend, ind.cross_below(fast, slow)
