# expect: ast ast:negative_shift
# shifts the aligned 4h close by -1: the next bar's higher-timeframe value
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import math
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind


class Strategy_TRN_0badc0de:
    strategy_type = "TRN"
    direction = "long"
    timeframes = ("1h",)
    inputs = ("htf:4h",)
    param_space = {"n": [10, 20], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        h4 = data["htf_4h_close"]
        nxt = ind.shift(h4, -1)
        return (nxt > h4) & (close > ind.sma(close, params["n"])), nxt < h4
