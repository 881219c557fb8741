# expect: passed
# MACD signal-line cross (EMAs of EMAs)
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import math
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind


class Strategy_TRN_0badc0de:
    strategy_type = "TRN"
    direction = "long"
    timeframes = ("1h", "4h")
    param_space = {"n": [5, 9], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        high = data["high"]
        low = data["low"]

        macd, signal, hist = ind.macd(close, 12, 26, params["n"])
        return ind.cross_above(macd, signal), ind.cross_below(macd, signal)
