# expect: lookahead warmup:unbounded
# expanding std of ROC since the first bar: signals depend on where history starts
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

        roc = ind.roc(close, params["n"])
        base = pd.Series(roc).expanding(min_periods=50).std().to_numpy()
        z = ind.zscore(close, params["n"])
        entries = np.nan_to_num(roc - base, nan=-1.0) > 0
        return entries, np.nan_to_num(z, nan=0.0) < -1.0
