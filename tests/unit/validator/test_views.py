"""The validator's views of a sample cover the extra inputs: a look-ahead in the alignment
itself is caught because truncated samples are re-aligned from cut raw sources."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sixbtc.strategy.inputs import MarketSample, build_data, resample
from sixbtc.validator import validate
from sixbtc.validator.lookahead import run_lookahead_tests
from sixbtc.validator.samples import named_sample
from sixbtc.validator.views import SampleView, synthetic_market, view_for
from sixbtc.validator.warmup import required_warmup

H4 = 4 * 3_600_000
DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "binance_usdm"


def walk(n: int, seed: int = 5) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.concatenate(([100.0], close[:-1]))
    return {"open": open_, "high": np.maximum(open_, close) * 1.001, "low": np.minimum(open_, close) * 0.999,
            "close": close, "volume": rng.uniform(1, 2, n)}


class BullishLastFourHours:
    """Honest rule on the aligned input: enter while the last 4h candle closed up."""

    def signals(self, data, params_list):
        up = data["htf_4h_close"] > data["htf_4h_open"]
        return np.stack([up] * len(params_list)), np.stack([~up] * len(params_list))


def open_time_alignment(market: MarketSample) -> dict[str, np.ndarray]:
    """A look-ahead alignment: the 4h candle whose *open* is at or before the bar's open,
    i.e. the one still open (its close is hours in the future)."""
    data = build_data(market, ())
    htf = resample(market.candles, H4)
    bars_open = market.candles.open_time[market.first:]
    idx = np.searchsorted(htf.open_time, bars_open, side="right") - 1
    for name in ("open", "close"):
        data[f"htf_4h_{name}"] = np.where(idx >= 0, htf.ohlcv[name][np.maximum(idx, 0)], np.nan)
    return data


class OpenTimeAlignedView(SampleView):
    """A host whose alignment peeks; truncated samples re-aligned from cut raw sources."""

    def __init__(self, market: MarketSample) -> None:
        super().__init__(market, ("htf:4h",))
        self._full = open_time_alignment(market)

    def window(self, start, end):
        return open_time_alignment(self.market.window(start, end))


class SlicedView(OpenTimeAlignedView):
    """The same host, truncation by slicing the full-history alignment (what not to do)."""

    def window(self, start, end):
        return {k: v[start:end] for k, v in self._full.items()}


def test_alignment_lookahead_is_caught_only_when_truncation_realigns_from_raw_data():
    market = synthetic_market(walk(1200))
    src, params = BullishLastFourHours(), [{"sl_pct": 0.01, "tp_pct": 0.02}]
    honest = view_for(market, ("htf:4h",))
    assert run_lookahead_tests(src, honest, params, src.signals(honest.full(), params), 5) is None
    peek = OpenTimeAlignedView(market)
    found = run_lookahead_tests(src, peek, params, src.signals(peek.full(), params), 5)
    assert found is not None and found.test == "truncation"
    sliced = SlicedView(market)
    assert run_lookahead_tests(src, sliced, params, src.signals(sliced.full(), params), 5) is None


def test_views_of_plain_samples_are_unchanged_and_windows_realign():
    data = walk(600)
    plain = view_for(data, ())
    assert set(plain.full()) == {"open", "high", "low", "close", "volume"}
    np.testing.assert_array_equal(plain.window(10, 50)["close"], data["close"][10:50])
    view = view_for(data, ("funding", "btc", "htf:4h", "open_time"))
    full = view.full()
    assert full["open_time"].dtype == np.int64 and np.isfinite(full["funding"][10:]).all()
    for start, end in ((0, 300), (123, 456)):
        part = view.window(start, end)
        for k, v in full.items():
            np.testing.assert_array_equal(part[k], v[start:end], err_msg=k)
    shuffled = view.shuffled(300, seed=1)
    np.testing.assert_array_equal(shuffled["open_time"], full["open_time"])
    np.testing.assert_array_equal(shuffled["funding"][:300], full["funding"][:300])
    assert not np.array_equal(shuffled["btc_close"][300:], full["btc_close"][300:])
    on_4h = view_for(synthetic_market(data, H4), ("htf:4h",), bar_ms=3_600_000)  # 4h bars cannot make 4h candles
    assert on_4h.market.candles.bar_ms == 3_600_000 and np.isfinite(on_4h.full()["htf_4h_close"][4:]).all()


def test_warmup_covers_inputs():
    view = view_for(walk(1600), ("htf:4h",))

    class HtfSma:
        def signals(self, data, params_list):
            h = data["htf_4h_close"]
            avg = pd.Series(h).rolling(30 * 4, min_periods=1).mean().to_numpy()
            e = np.nan_to_num(h) > avg
            return np.stack([e] * len(params_list)), np.stack([~e] * len(params_list))

    src = HtfSma()
    result = required_warmup(src, view, [{}], src.signals(view.full(), [{}]))
    assert result.bars is not None and 50 <= result.bars <= 200  # the 4h average spans 120 1h bars


class ParquetStore:
    """Read-only candles and funding of the shared data (no writes)."""

    def read_candles(self, symbol, timeframe, start=None, end=None):
        df = pd.read_parquet(DATA / f"{symbol}_{timeframe}.parquet")
        return df[(df["timestamp"] >= start) & (df["timestamp"] < end)].reset_index(drop=True)

    def read_funding(self, symbol, start=None, end=None):
        df = pd.read_parquet(DATA / f"{symbol}_funding.parquet")
        return df[(df["timestamp"] >= start) & (df["timestamp"] < end)].reset_index(drop=True)


@pytest.mark.skipif(not (DATA / "ETH_1h.parquet").exists(), reason="needs ../shared/data (real Binance candles)")
def test_real_store_sample_carries_funding_and_btc_and_honest_inputs_pass(sandbox):
    store = ParquetStore()
    df = pd.read_parquet(DATA / "ETH_1h.parquet").tail(2000).reset_index(drop=True)
    sample = named_sample(df, "ETH 1h", store, "ETH", "1h")
    assert sample.market is not None
    data = build_data(sample.market, ("funding", "btc", "open_time"))
    assert np.isfinite(data["funding"]).all() and np.isfinite(data["btc_close"]).all()
    np.testing.assert_array_equal(data["close"], sample.data["close"])
    assert (data["open_time"] == df["timestamp"].to_numpy("datetime64[ms]").astype(np.int64)).all()
    code = (Path(__file__).parent / "corpus" / "clean" / "funding_extreme_short.py").read_text()
    report = validate(code, sandbox, sample.market, extra_samples=())
    assert report.passed, report.detail
    code = (Path(__file__).parent / "corpus" / "biased" / "funding_next_settlement.py").read_text()
    report = validate(code, sandbox, sample.market, extra_samples=())
    assert report.reason == "lookahead:truncation", report.detail
