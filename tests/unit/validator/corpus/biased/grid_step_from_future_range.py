# expect: lookahead lookahead:truncation|lookahead:shuffle|warmup:unbounded
# ruff: noqa: I001 - strategy source kept as written (test data)
"""A grid (GRD) that widens its levels before volatile bars (the next bar's range, read by
concatenation, wrapping round to the first bar on the last one, so the warm-up test may be the
one that sees it): no level is filled ahead of a crash."""
import numpy as np
from sixbtc.strategy import indicators as ind


class Strategy_GRD_c0ffee03:
    strategy_type = "GRD"
    direction = "long"
    timeframes = ("1h",)
    param_space = {"n": [30], "k": [1.0], "levels": [2], "sl_pct": [0.02]}

    def signals(self, data, params):
        close, high, low = data["close"], data["high"], data["low"]
        rng = high - low
        next_range = np.concatenate((rng[1:], rng[:1]))
        base = ind.sma(ind.true_range(high, low, close), 14)
        step = params["k"] * base * np.where(next_range > 2.0 * base, 5.0, 1.0)
        return {"center": ind.sma(close, params["n"]), "step": step}
