"""The validator reads low/high for grid entry counts from every sample form it is given."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from sixbtc.validator.pipeline import _low_high


def test_low_high_from_a_dict_a_view_and_a_market_sample():
    low, high = np.arange(5.0), np.arange(5.0) + 1
    assert [a.tolist() for a in _low_high({"low": low, "high": high})] == [low.tolist(), high.tolist()]
    view = SimpleNamespace(full=lambda: {"low": low, "high": high})
    assert _low_high(view)[1].tolist() == high.tolist()
    market = SimpleNamespace(candles=SimpleNamespace(ohlcv={"low": low, "high": high}), first=2)
    got = _low_high(market)
    assert got[0].tolist() == [2.0, 3.0, 4.0] and got[1].tolist() == [3.0, 4.0, 5.0]  # visible bars only
