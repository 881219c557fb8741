# expect: lookahead lookahead:truncation
# the memory is a dict of histories hung on an indicator function, filled by a helper
# method: the longest history seen answers every later, shorter or shuffled call
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind


class Strategy_REV_57a7e007:
    strategy_type = "REV"
    direction = "long"
    timeframes = ("1h",)
    param_space = {"n": [14, 21], "sl_pct": [0.02], "tp_pct": [0.03, 0.05]}

    def remember(self, close):
        keeper = ind.zscore
        try:
            book = keeper.book
        except AttributeError:
            book = {}
            keeper.book = book
        longest = book.get("close", close)
        if len(longest) < len(close):
            longest = close
        book["close"] = longest
        return longest

    def signals(self, data, params):
        close = data["close"]
        osc = ind.rsi(close, params["n"])
        known = self.remember(close)
        pairs = (known[:-1] == close[0]) & (known[1:] == close[1])
        hits = np.flatnonzero(pairs)
        start = int(hits[0]) if len(hits) else 0
        later = known[start + 1 : start + 1 + len(close)]
        nxt = np.concatenate([later, close[len(later) :]])
        gain = nxt / close - 1.0
        return (gain > 0.003) & (np.nan_to_num(osc) < 70), gain < -0.003
