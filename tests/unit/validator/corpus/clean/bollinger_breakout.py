# expect: passed
# Bollinger band breakout
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import math
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind


class Strategy_BRK_0badc0de:
    strategy_type = "BRK"
    direction = "long"
    timeframes = ("1h", "4h")
    param_space = {"n": [10, 20], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        high = data["high"]
        low = data["low"]

        upper, middle, lower = ind.bbands(close, params["n"], 2.0)
        return ind.cross_above(close, upper), ind.cross_below(close, middle)
