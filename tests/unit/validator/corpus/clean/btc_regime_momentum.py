# expect: passed
# momentum entries while BTC is above its SMA and rising (market regime)
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import math
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind


class Strategy_MOM_0badc0de:
    strategy_type = "MOM"
    direction = "long"
    timeframes = ("1h",)
    inputs = ("btc",)
    param_space = {"n": [50, 100], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        btc = data["btc_close"]
        regime = (btc > ind.sma(btc, params["n"])) & (ind.roc(btc, 24) > 0)
        entries = ind.cross_above(close, ind.sma(close, 20)) & regime
        return entries, ind.cross_below(close, ind.sma(close, 20))
