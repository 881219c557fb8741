# expect: passed
# Donchian breakout only during 08-20 UTC on weekdays (clock from open_time)
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import math
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind


class Strategy_BRK_0badc0de:
    strategy_type = "BRK"
    direction = "long"
    timeframes = ("1h",)
    inputs = ("open_time",)
    param_space = {"n": [20, 40], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        t = data["open_time"]
        hour = (t // 3600000) % 24
        weekday = (t // 86400000 + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
        session = (hour >= 8) & (hour < 20) & (weekday < 5)
        top = ind.highest(data["high"], params["n"])
        entries = (close > ind.shift(top, 1)) & session
        return entries, close < ind.sma(close, params["n"])
