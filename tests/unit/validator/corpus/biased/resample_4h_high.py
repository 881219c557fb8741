# expect: ast ast:resample
# 4h high resampled back onto 1h bars: the bar's high is known only at its close
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

        idx = pd.date_range("2024-01-01", periods=len(close), freq="h")
        s = pd.Series(high, index=idx)
        h4 = s.resample("4h").max().reindex(idx, method="ffill").to_numpy()
        return close >= h4 * 0.999, close < h4 * 0.98
