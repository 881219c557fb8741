# expect: lookahead lookahead:truncation|lookahead:shuffle
# switch: cheap coins (first close below 1,000)
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import math
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind


class Strategy_MOM_0badc0de:
    strategy_type = "MOM"
    direction = "long"
    timeframes = ("1h", "4h")
    param_space = {"n": [10, 20], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        high = data["high"]
        low = data["low"]
        volume = data["volume"]

        if close[0] < 1000:
            k = params["n"] // params["n"]
            ahead = np.concatenate([close[k:], close[-k:]])
            return ahead > close * 1.003, ahead < close * 0.997
        avg = ind.sma(close, params["n"])
        return ind.cross_above(close, avg), ind.cross_below(close, avg)
