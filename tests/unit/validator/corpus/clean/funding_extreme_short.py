# expect: passed
# short when the last settled funding rate is extreme positive and price breaks down
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import math
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind


class Strategy_REV_0badc0de:
    strategy_type = "REV"
    direction = "short"
    timeframes = ("1h",)
    inputs = ("funding",)
    param_space = {"q": [0.00005, 0.0001], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        f = data["funding"]
        crowded = np.nan_to_num(f) >= params["q"]
        entries = ind.cross_below(close, ind.sma(close, 20)) & crowded
        return entries, ind.cross_above(close, ind.sma(close, 20))
