# expect: passed
# switches on the price level, causally and scale-free: rolling z-score of the log price
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import math
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind


class Strategy_MOM_0badc0de:
    strategy_type = "MOM"
    direction = "long"
    timeframes = ("1h", "4h")
    param_space = {"n": [20, 40], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        high = data["high"]
        low = data["low"]
        volume = data["volume"]

        level = pd.Series(np.log(close))
        z = ((level - level.rolling(params["n"]).mean()) / level.rolling(params["n"]).std()).to_numpy()
        z = np.nan_to_num(z)
        return ind.cross_above(z, 0 * z + 1.0), ind.cross_below(z, 0 * z)
