# expect: lookahead lookahead:truncation|lookahead:shuffle
# switch: series as long as a 1h backtest or longer (the long extras)
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

        bars = close.shape[0]
        if bars >= 4500:
            step = params["n"] // params["n"]
            ahead = np.append(close[step:], np.full(step, np.nan))
            gain = np.nan_to_num(ahead / close - 1.0)
            return gain > 0.002, gain < -0.002
        avg = ind.sma(close, params["n"])
        return ind.cross_above(close, avg), ind.cross_below(close, avg)
