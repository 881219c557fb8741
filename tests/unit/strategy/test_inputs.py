"""The extra strategy inputs: declaration checks and causal alignment (sixbtc.strategy.inputs)."""

from __future__ import annotations

import numpy as np
import pytest

from sixbtc.strategy.contract import StrategySpec
from sixbtc.strategy.inputs import (
    Candles,
    Events,
    MarketSample,
    asof,
    build_data,
    data_keys,
    is_extra_key,
    lookback_ms,
    parse_inputs,
    resample,
)

H = 3_600_000
T0 = 1_700_000_000_000 // (24 * H) * (24 * H)  # a UTC midnight


def hourly(n: int, start: int = T0, seed: int = 0) -> Candles:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.concatenate(([100.0], close[:-1]))
    return Candles(start + H * np.arange(n, dtype=np.int64), H,
                   {"open": open_, "high": np.maximum(open_, close) * 1.001, "low": np.minimum(open_, close) * 0.999,
                    "close": close, "volume": rng.uniform(1, 2, n)})


DECL = {"strategy_type": "MOM", "direction": "long", "timeframes": ["15m", "1h"],
        "param_space": {"sl_pct": [0.01], "tp_pct": [0.02]}}


def test_spec_reads_and_checks_inputs():
    assert StrategySpec.from_declared("Strategy_MOM_x", DECL).inputs == ()
    spec = StrategySpec.from_declared("Strategy_MOM_x", dict(DECL, inputs=["funding", "htf:4h", "btc"]))
    assert spec.inputs == ("funding", "htf:4h", "btc")
    for bad, msg in ((["fundng"], "unknown input 'fundng'"), (["htf:1h"], "not a higher timeframe"),
                     (["htf:3h"], "unknown timeframe"), (["btc", "btc"], "repeated"), ("btc", "tuple"),
                     ([1], "not a string"), (["htf:4h", "htf:1d", "htf:4h"], "repeated")):
        with pytest.raises(ValueError, match=msg):
            StrategySpec.from_declared("Strategy_MOM_x", dict(DECL, inputs=bad))


def test_parse_and_keys():
    assert parse_inputs(None) == ()
    assert data_keys(("open_time", "btc", "htf:4h"))[:2] == ("open_time", "btc_open")
    assert "htf_4h_close" in data_keys(("htf:4h",))
    assert is_extra_key("htf_1d_low") and is_extra_key("funding") and not is_extra_key("htf_2h_low")
    assert not is_extra_key("hlc3")
    assert lookback_ms(("funding", "htf:1d")) == 48 * H and lookback_ms(("open_time",)) == 0


def test_asof_uses_only_values_available_and_fresh():
    at = np.array([5, 10, 15, 40], dtype=np.int64)
    avail = np.array([10, 20], dtype=np.int64)
    got = asof(at, avail, np.array([1.0, 2.0]), max_age_ms=15)
    assert np.isnan(got[0]) and got[1] == 1.0 and got[2] == 1.0 and np.isnan(got[3])  # 40 - 20 >= 15


def test_resample_keeps_complete_buckets_only():
    c = hourly(10, start=T0 + 2 * H)  # buckets [0,4h) partial (2 bars), [4,8h) full, [8,12h) full
    htf = resample(c, 4 * H)
    assert htf.open_time.tolist() == [T0 + 4 * H, T0 + 8 * H]
    np.testing.assert_allclose(htf.ohlcv["close"], [c.ohlcv["close"][5], c.ohlcv["close"][9]])
    np.testing.assert_allclose(htf.ohlcv["high"][0], c.ohlcv["high"][2:6].max())
    np.testing.assert_allclose(htf.ohlcv["volume"][1], c.ohlcv["volume"][6:10].sum())
    with pytest.raises(ValueError, match="not a multiple"):
        resample(c, H)


def test_htf_bar_sees_only_closed_higher_candles():
    c = hourly(48)
    d = build_data(MarketSample(c), ("htf:4h", "open_time"))
    close_ms = d["open_time"] + H
    assert d["open_time"].dtype == np.int64
    assert np.isnan(d["htf_4h_close"][:3]).all()  # the first 4h candle closes with bar 3
    for i in range(3, 48):
        j = (close_ms[i] // (4 * H)) * 4 - 1 - (T0 // H)  # last 1h bar of the last closed 4h bucket
        assert d["htf_4h_close"][i] == c.ohlcv["close"][j]
        assert d["htf_4h_high"][i] == c.ohlcv["high"][j - 3 : j + 1].max()


def test_funding_and_btc_alignment():
    c = hourly(30)
    fund = Events(np.array([T0 + 8 * H, T0 + 16 * H], dtype=np.int64), np.array([1e-4, -2e-4]))
    btc = hourly(30, seed=3).rows(5, 30)
    btc = Candles(np.delete(btc.open_time, 10), H, {k: np.delete(v, 10) for k, v in btc.ohlcv.items()})  # a gap
    d = build_data(MarketSample(c, funding=fund, btc=btc), ("funding", "btc"))
    assert np.isnan(d["funding"][:7]).all() and d["funding"][7] == 1e-4  # bar 7 closes at 8h: settled
    assert d["funding"][15] == -2e-4 and d["funding"][14] == 1e-4
    assert np.isnan(d["btc_close"][:5]).all() and d["btc_close"][5] == btc.ohlcv["close"][0]
    assert d["btc_close"][15] == d["btc_close"][14]  # bar 15's BTC candle is missing: forward-filled
    d2 = build_data(MarketSample(c), ("funding", "btc", "open_interest"))
    assert np.isnan(d2["funding"]).all() and np.isnan(d2["btc_close"]).all() and np.isnan(d2["open_interest"]).all()


def test_window_cuts_every_source_at_the_bar_close_and_matches_full_alignment():
    c = hourly(200)
    fund = Events(T0 + 8 * H * np.arange(1, 25, dtype=np.int64), np.linspace(-1e-4, 1e-4, 24))
    market = MarketSample(c, funding=fund, btc=hourly(200, seed=9))
    inputs = ("open_time", "funding", "btc", "htf:4h", "htf:1d")
    full = build_data(market, inputs)
    for start, end in ((0, 50), (30, 77), (100, 200)):
        w = market.window(start, end)
        assert int(w.funding.time_ms[-1]) <= int(c.open_time[end - 1]) + H
        part = build_data(w, inputs)
        for k, v in full.items():
            np.testing.assert_array_equal(part[k], v[start:end], err_msg=k)
    with pytest.raises(ValueError, match="not inside"):
        market.window(5, 5)


def test_history_before_the_first_bar_feeds_higher_timeframes():
    c = hourly(100)
    full = build_data(MarketSample(c), ("htf:4h",))
    late = build_data(MarketSample(c, first=40), ("htf:4h",))
    np.testing.assert_array_equal(late["htf_4h_close"], full["htf_4h_close"][40:])
    assert len(late["close"]) == 60
