"""The validator reads low/high for grid entry counts from the view of every sample form
it is given (``view_for(...).full()``): a dict, or a market sample's visible bars only."""

from __future__ import annotations

import numpy as np

from sixbtc.strategy.inputs import Candles, MarketSample
from sixbtc.validator.views import view_for

H = 3_600_000


def test_view_prices_from_a_dict_and_a_market_sample():
    low, high = np.arange(5.0), np.arange(5.0) + 1
    ohlcv = {"open": low, "high": high, "low": low, "close": low, "volume": low}
    got = view_for(ohlcv, ()).full()
    assert got["low"].tolist() == low.tolist() and got["high"].tolist() == high.tolist()
    market = MarketSample(Candles(H * np.arange(5, dtype=np.int64), H, ohlcv), first=2)
    got = view_for(market, ()).full()
    assert got["low"].tolist() == [2.0, 3.0, 4.0] and got["high"].tolist() == [3.0, 4.0, 5.0]  # visible bars only
