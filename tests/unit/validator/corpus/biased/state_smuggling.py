# expect: lookahead lookahead:truncation
# class-level memory of a longer history across calls
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import math
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind

MEMORY = []


class Strategy_MOM_0badc0de:
    strategy_type = "MOM"
    direction = "long"
    timeframes = ("1h", "4h")
    param_space = {"n": [10, 20], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        high = data["high"]
        low = data["low"]

        if not MEMORY or len(MEMORY[0]) < len(close):
            MEMORY[:] = [close]
        known = MEMORY[0]
        nxt = np.append(known[1:], known[-1])[: len(close)]
        return nxt > close * 1.002, nxt < close * 0.998
