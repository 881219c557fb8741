"""The bundled synthetic validation sample and the synthetic extras."""

from __future__ import annotations

import numpy as np
import pytest

from sixbtc.validator.sample import LONG_SYNTHETIC_BARS, synthetic_extras, synthetic_sample


def test_synthetic_sample_is_reproducible_and_ohlc_consistent():
    a, b = synthetic_sample(500), synthetic_sample(500)
    for key in ("open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(a[key], b[key])
        assert a[key].shape == (500,) and a[key].dtype == np.float64
    assert (a["low"] <= np.minimum(a["open"], a["close"])).all()
    assert (a["high"] >= np.maximum(a["open"], a["close"])).all()
    np.testing.assert_array_equal(a["open"][1:], a["close"][:-1])
    assert not np.array_equal(synthetic_sample(500, seed=8)["close"], a["close"])


@pytest.mark.parametrize("bad", [1, 0, 2.5, True])
def test_bad_length_raises(bad):
    with pytest.raises(ValueError, match="n_bars"):
        synthetic_sample(bad)


def test_synthetic_extras_differ_from_a_btc_sample_in_price_volume_volatility_and_length():
    extras = synthetic_extras()
    assert [e.name for e in extras] == [e.name for e in synthetic_extras()]  # fixed
    firsts = sorted(e.data["close"][0] for e in extras)
    assert firsts[0] < 1e-3 and firsts[-1] > 1e6  # micro and mega prices (BTC: ~1e5)
    volumes = [np.median(e.data["volume"]) for e in extras]
    assert min(volumes) < 1 and max(volumes) > 1e8
    sds = [np.std(np.diff(np.log(e.data["close"]))) for e in extras]
    assert min(sds) < 0.0035 and max(sds) > 0.012
    assert max(e.n_bars for e in extras) == LONG_SYNTHETIC_BARS > 17_530  # longer than a 15m backtest
    for e in extras:
        d = e.data
        assert (d["low"] <= np.minimum(d["open"], d["close"])).all()
        assert (d["high"] >= np.maximum(d["open"], d["close"])).all()
        assert not d["close"].flags.writeable  # shared between validations: read-only


def test_scaled_synthetic_sample_rejects_non_positive_scales():
    with pytest.raises(ValueError, match="positive"):
        synthetic_sample(100, price=0.0)
    with pytest.raises(ValueError, match="positive"):
        synthetic_sample(100, volume=(5.0, 1.0))
