"""Permuted and reflected futures cannot be told from real candles by their price grid."""

from __future__ import annotations

import numpy as np
import pytest

from sixbtc.strategy.permutation import decimal_tick, permute_bars, reflect_bars
from sixbtc.validator.lookahead import shuffle_after


def candles(n: int = 600, tick: float = 0.1, price: float = 43_000.0, seed: int = 3) -> dict[str, np.ndarray]:
    """A random walk on a decimal tick grid, like exchange candles (open = previous close)."""
    rng = np.random.default_rng(seed)
    scale = round(1 / tick)
    close = np.round(price * np.exp(np.cumsum(rng.normal(0, 0.006, n))) * scale) / scale
    open_ = np.concatenate(([close[0]], close[:-1]))
    wick = np.round(np.abs(rng.normal(0, 0.002, (2, n))) * price * scale) / scale
    return {"open": open_, "high": np.maximum(open_, close) + wick[0], "low": np.minimum(open_, close) - wick[1],
            "close": close, "volume": np.round(rng.uniform(1, 100, n), 3)}


@pytest.mark.parametrize("tick", [1.0, 0.1, 0.01, 1e-4, 1e-7])
def test_decimal_tick_finds_the_grid_of_exchange_prices(tick):
    assert decimal_tick(candles(tick=tick, price=max(1.0, 1000 * tick) * 50)["close"]) == pytest.approx(tick)


def test_decimal_tick_is_none_off_any_grid():
    assert decimal_tick(np.exp(np.linspace(0, 1, 100)) * 100) is None
    assert decimal_tick(np.array([1e16, 2e16])) is None  # too large to tell


@pytest.mark.parametrize("make", [lambda d, c: shuffle_after(d, c, seed=4), reflect_bars,
                                  lambda d, c: permute_bars(d, c, np.random.default_rng(4))],
                         ids=["shuffle_after", "reflect_bars", "permute_bars"])
def test_moved_bars_stay_on_the_tick_grid_and_keep_the_candle_shape(make):
    """Before: the rebuilt prices were off the 0.1 grid, so code that peeked only when the next
    bar was on the grid of the real candles passed the shuffle test."""
    data = candles()
    out = make(data, 300)
    for key in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(out[key][:300], data[key][:300])
    assert decimal_tick(out["close"][300:]) == pytest.approx(0.1)
    assert decimal_tick(np.concatenate([out[k][300:] for k in ("open", "high", "low")])) == pytest.approx(0.1)
    assert (out["low"] <= np.minimum(out["open"], out["close"])).all()
    assert (out["high"] >= np.maximum(out["open"], out["close"])).all()
    assert not np.array_equal(out["close"][300:], data["close"][300:])


def test_reflect_bars_reverses_every_later_move_about_the_cut_close():
    data = candles()
    out = reflect_bars(data, 300)
    pivot = data["close"][299]
    up_before = data["close"][301:] > pivot
    up_after = out["close"][301:] > pivot
    moved = np.abs(data["close"][301:] - pivot) > 1.0  # rounding to the tick cannot flip these
    assert (up_before[moved] != up_after[moved]).all()
    np.testing.assert_array_equal(out["volume"], data["volume"])
