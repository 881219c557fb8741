# expect: passed
# expanding window used legitimately: a bars-seen guard that saturates after n bars
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import math
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind


class Strategy_MOM_0badc0de:
    strategy_type = "MOM"
    direction = "long"
    timeframes = ("1h", "4h")
    param_space = {"n": [20, 40], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        high = data["high"]
        low = data["low"]

        s = pd.Series(close)
        ready = s.expanding(min_periods=1).count().to_numpy() > params["n"]
        mean = s.rolling(params["n"]).mean().to_numpy()
        up = ind.cross_above(close, mean)
        return up & ready, ind.cross_below(close, mean)
