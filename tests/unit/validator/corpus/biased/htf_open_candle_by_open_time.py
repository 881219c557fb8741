# expect: lookahead lookahead:truncation
# re-aligns the 4h candle by open time: the bar's *still-open* 4h candle closes later
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import math
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind


class Strategy_MOM_0badc0de:
    strategy_type = "MOM"
    direction = "long"
    timeframes = ("1h",)
    inputs = ("open_time",)
    param_space = {"n": [10, 20], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        bucket = data["open_time"] // 14400000
        last = np.searchsorted(bucket, bucket, side="right") - 1  # last bar of this bar's 4h bucket
        h4_close = close[last]
        trend = ind.sma(close, params["n"])
        return (h4_close > close) & (close > trend), h4_close < close
