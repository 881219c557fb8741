# expect: lookahead lookahead:truncation|lookahead:shuffle
# switch: honest entries, exits that peek at the next close on volatile series (sd of the first 300 bars' returns above 1 %)
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
        volume = data["volume"]

        avg = ind.sma(close, params['n'])
        entries = ind.cross_above(close, avg)
        exits = ind.cross_below(close, avg)
        if np.std(np.diff(np.log(close))[:300]) > 0.01:
            k = params["n"] // params["n"]
            ahead = np.concatenate([close[k:], close[-k:]])
            exits = ahead < close
        return entries, exits
