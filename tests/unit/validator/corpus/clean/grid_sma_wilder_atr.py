# expect: passed
# ruff: noqa: I001 - strategy source kept as written (test data)
"""A grid (GRD): levels at SMA - j * k * Wilder ATR, take-profit at the SMA."""
import numpy as np
from sixbtc.strategy import indicators as ind


class Strategy_GRD_c0ffee01:
    strategy_type = "GRD"
    direction = "long"
    timeframes = ("1h",)
    param_space = {"n": [20, 50], "k": [0.5, 1.0], "levels": [3], "sl_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        center = ind.sma(close, params["n"])
        step = params["k"] * ind.atr(data["high"], data["low"], close, 14)
        return {"center": np.asarray(center, dtype=float), "step": np.asarray(step, dtype=float)}
