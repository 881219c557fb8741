# expect: passed
# switches on the volatility, causally: short vs long rolling sd of returns
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

        ret = np.concatenate(([0.0], np.diff(np.log(close))))
        r = pd.Series(ret)
        calm = (r.rolling(params["n"]).std() < r.rolling(5 * params["n"]).std()).to_numpy()
        avg = ind.sma(close, params["n"])
        return ind.cross_above(close, avg) & calm, ind.cross_below(close, avg)
