# expect: passed
# RSI thresholds (Wilder smoothing: long memory, but bool crosses settle)
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import math
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind


class Strategy_REV_0badc0de:
    strategy_type = "REV"
    direction = "long"
    timeframes = ("1h", "4h")
    param_space = {"n": [7, 14], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        high = data["high"]
        low = data["low"]

        rsi = ind.rsi(close, params["n"])
        return ind.cross_above(rsi, 30.0 + 0 * rsi), ind.cross_above(rsi, 70.0 + 0 * rsi)
