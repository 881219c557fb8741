# expect: lookahead lookahead:truncation
# buys when BTC will be higher 6 bars later (index arithmetic on the BTC context)
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
    param_space = {"k": [4, 6], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        btc = data["btc_close"]
        ahead = np.minimum(np.arange(len(btc)) + params["k"], len(btc) - 1)
        later = btc[ahead]
        return later > btc * 1.004, later < btc
