# expect: passed
# rolling quantile of the previous bars (windowed, not global)
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import math
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind


class Strategy_BRK_0badc0de:
    strategy_type = "BRK"
    direction = "long"
    timeframes = ("1h", "4h")
    param_space = {"n": [48, 96], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        high = data["high"]
        low = data["low"]

        s = pd.Series(close)
        top = s.rolling(params["n"]).quantile(0.9).shift(1).to_numpy()
        bottom = s.rolling(params["n"]).quantile(0.3).shift(1).to_numpy()
        entries = np.nan_to_num(close - top, nan=-1.0) > 0
        exits = np.nan_to_num(close - bottom, nan=1.0) < 0
        return entries, exits
