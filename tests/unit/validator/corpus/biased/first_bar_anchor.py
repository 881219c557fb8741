# expect: lookahead warmup:unbounded
# price grid anchored to the first bar of the data
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

        base = close[0]
        level = np.floor(np.log(close / base) / 0.02)  # a 2 % grid anchored at the first bar
        step = np.nan_to_num(level - ind.shift(level, 1))
        return step > 0, step < 0
