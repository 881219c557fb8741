# expect: lookahead lookahead:truncation
# reads the next value the aligned 4h close will take (the candle that has not closed yet)
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
        h4 = np.nan_to_num(data["htf_4h_close"])
        change = np.flatnonzero(h4[1:] != h4[:-1]) + 1
        k = np.minimum(np.searchsorted(change, np.arange(len(h4)), side="right"), len(change) - 1)
        upcoming = h4[change[k]]
        trend = ind.sma(close, params["n"])
        return (upcoming > h4) & (close > trend), upcoming < h4
