# expect: lookahead lookahead:truncation
# np.append(close[lag:], nan): the future by slicing (AST cannot see it)
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import math
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind


class Strategy_MOM_0badc0de:
    strategy_type = "MOM"
    direction = "long"
    timeframes = ("1h", "4h")
    param_space = {"lag": [1, 2], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        high = data["high"]
        low = data["low"]

        lag = params["lag"]
        ahead = np.append(close[lag:], np.full(lag, np.nan))
        up = np.nan_to_num(ahead - close, nan=0.0) > 0
        return up, ~up
