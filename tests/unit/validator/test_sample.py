"""The bundled synthetic validation sample."""

from __future__ import annotations

import numpy as np
import pytest

from sixbtc.validator.sample import synthetic_sample


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
