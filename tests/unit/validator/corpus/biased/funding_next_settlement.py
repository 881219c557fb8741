# expect: lookahead lookahead:truncation
# shorts ahead of the next funding settlement's rate, read from the aligned array's future
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import math
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind


class Strategy_REV_0badc0de:
    strategy_type = "REV"
    direction = "short"
    timeframes = ("1h",)
    inputs = ("funding",)
    param_space = {"q": [0.00005, 0.0001], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        f = np.nan_to_num(data["funding"])
        change = np.flatnonzero(f[1:] != f[:-1]) + 1
        k = np.minimum(np.searchsorted(change, np.arange(len(f)), side="right"), len(change) - 1)
        upcoming = f[change[k]]
        return upcoming > params["q"], upcoming < 0
