# expect: passed
# Donchian channel of the previous bars, short side
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import math
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind


class Strategy_BRK_0badc0de:
    strategy_type = "BRK"
    direction = "short"
    timeframes = ("1h", "4h")
    param_space = {"n": [10, 20], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        high = data["high"]
        low = data["low"]

        floor = ind.shift(ind.lowest(low, params["n"]), 1)
        ceiling = ind.shift(ind.highest(high, params["n"]), 1)
        entries = np.nan_to_num(close - floor, nan=1.0) < 0
        exits = np.nan_to_num(close - ceiling, nan=-1.0) > 0
        return entries, exits
