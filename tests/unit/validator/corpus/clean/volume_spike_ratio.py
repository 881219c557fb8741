# expect: passed
# volume scale made irrelevant: volume over its own rolling mean
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
        volume = data["volume"]

        v = pd.Series(volume)
        spike = (v / v.rolling(params["n"]).mean()).to_numpy() > 1.5
        high_n = pd.Series(high).rolling(params["n"]).max().to_numpy()
        breakout = close > ind.shift(high_n, 1)
        return np.nan_to_num(spike & breakout).astype(bool), ind.cross_below(close, ind.sma(close, params["n"]))
