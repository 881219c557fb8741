# expect: lookahead lookahead:truncation|lookahead:shuffle
# ruff: noqa: I001 - strategy source kept as written (test data)
"""A grid (GRD) whose center leans towards the next close (read by concatenation)."""
import numpy as np
from sixbtc.strategy import indicators as ind


class Strategy_GRD_c0ffee02:
    strategy_type = "GRD"
    direction = "long"
    timeframes = ("1h",)
    param_space = {"n": [20], "k": [1.0], "levels": [3], "sl_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        ahead = np.concatenate((close[1:], close[:1]))
        center = 0.5 * ind.sma(close, params["n"]) + 0.5 * ahead
        step = params["k"] * ind.sma(ind.true_range(data["high"], data["low"], close), 14)
        return {"center": center, "step": step}
