# expect: passed
# pandas rolling z-score
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import math
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind


class Strategy_REV_0badc0de:
    strategy_type = "REV"
    direction = "long"
    timeframes = ("1h", "4h")
    param_space = {"n": [10, 20], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        high = data["high"]
        low = data["low"]

        s = pd.Series(close)
        mean = s.rolling(params["n"]).mean()
        std = s.rolling(params["n"]).std()
        z = ((s - mean) / std).to_numpy()
        entries = np.nan_to_num(z, nan=0.0) < -1.5
        exits = np.nan_to_num(z, nan=0.0) > 0.0
        return entries, exits
