# expect: lookahead lookahead:truncation
# next-bar look-ahead from the full history memorised on the first call, kept as an
# a class attribute of numpy.vectorize (outlives a call in a reused worker process)
# ruff: noqa: F401, F841, I001 - strategy source kept as written (test data)
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind


class Strategy_MOM_57a7e006:
    strategy_type = "MOM"
    direction = "long"
    timeframes = ("1h", "4h")
    param_space = {"n": [10, 20], "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        trend = ind.sma(close, params["n"])
        box = np.vectorize
        try:
            known = box.past
        except AttributeError:
            known = close
        if len(known) < len(close):
            known = close
        box.past = known
        hits = np.flatnonzero((known[:-1] == close[0]) & (known[1:] == close[1]))
        start = int(hits[0]) if len(hits) else 0
        ahead = known[start + 1 : start + 1 + len(close)]
        nxt = np.concatenate([ahead, close[len(ahead) :]])
        rising = np.nan_to_num(trend) > 0
        return (nxt > close * 1.002) & rising, nxt < close * 0.998
