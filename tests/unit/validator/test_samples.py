"""The validator's sample set: which real extras the store provides, and the look-ahead tests on
the extra samples (in-process signal sources)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sixbtc.core.errors import StrategyRejected
from sixbtc.validator.multisample import check_extra_samples
from sixbtc.validator.sample import NamedSample, synthetic_extras, synthetic_sample
from sixbtc.validator.samples import MIN_LONG_BARS, backtest_span, extra_samples, store_extras

T0 = pd.Timestamp("2020-01-01", tz="UTC")


def frame(n: int, tf_hours: float, price: float, seed: int = 0) -> pd.DataFrame:
    data = synthetic_sample(n, seed, price=price)
    return pd.DataFrame({"timestamp": T0 + pd.Timedelta(hours=tf_hours) * np.arange(n), **data})


class Reader:
    """In-memory CandleReader; records the reads."""

    def __init__(self, frames: dict[tuple[str, str], pd.DataFrame]) -> None:
        self.frames, self.reads = frames, []

    def symbols(self, timeframe: str) -> list[str]:
        return sorted(s for s, tf in self.frames if tf == timeframe)

    def read_candles(self, symbol, timeframe, start=None, end=None):
        self.reads.append((symbol, timeframe, end))
        df = self.frames[(symbol, timeframe)]
        return df[df["timestamp"] < end] if end is not None else df


def store() -> Reader:
    return Reader({("BTC", "1h"): frame(6000, 1, 9000.0), ("DOGE", "1h"): frame(4000, 1, 0.1, 1),
                   ("ETH", "1h"): frame(4000, 1, 2000.0, 2), ("SOL", "4h"): frame(2500, 4, 150.0, 3),
                   ("BTC", "15m"): frame(20_000, 0.25, 60_000.0, 4), ("XRP", "4h"): frame(1000, 4, 2.0, 5)})


def test_store_extras_differ_in_coin_price_start_timeframe_and_length():
    got = store_extras(store(), end=None, long_timeframe="15m", long_bars=17_530)
    names = [e.name for e in got]
    assert names == ["DOGE 1h low price (3000 bars from 2020-02-11)", "BTC 1h early start (2000 bars from 2020-01-01)",
                     "SOL 4h high volatility (2000 bars from 2020-03-24)", "BTC 15m long (17530 bars from 2020-01-26)"]
    assert got[0].data["close"][0] < 1 and got[1].data["close"][0] == pytest.approx(9000, rel=0.05)
    assert [e.n_bars for e in got] == [3000, 2000, 2000, 17_530]
    assert all(e.data[k].dtype == np.float64 for e in got for k in e.data)


def test_store_extras_end_before_the_replay_window_and_skip_what_is_missing():
    reader = store()
    end = T0 + pd.Timedelta(hours=2500)
    got = store_extras(reader, end=end, long_timeframe="15m", long_bars=17_530)
    assert {r[2] for r in reader.reads} == {end}
    assert all(len(e.data["close"]) <= 2500 for e in got if "1h" in e.name)
    assert [e.name.split(" (")[0] for e in got] == ["DOGE 1h low price", "BTC 1h early start", "BTC 15m long"]
    # 625 SOL and 1,000 XRP 4h candles before `end`: fewer than 1,500, no high-volatility extra
    short = store_extras(store(), end=None, long_timeframe="15m", long_bars=MIN_LONG_BARS - 1)
    assert not any("long" in e.name for e in short)  # a short backtest span adds no long extra
    assert store_extras(Reader({}), end=None) == []


def test_extra_samples_add_the_synthetic_ones():
    assert [e.name for e in extra_samples(None)] == [e.name for e in synthetic_extras()]
    assert len(extra_samples(store(), end=None, long_bars=17_530)) == 4 + len(synthetic_extras())


class Rule:
    """In-process SignalSource: entries = rule(close); counts calls."""

    def __init__(self, rule) -> None:
        self.rule, self.calls = rule, 0

    def signals(self, data, params_list):
        self.calls += 1
        e = np.array([self.rule(np.asarray(data["close"])) for _ in params_list])
        return e, np.zeros_like(e)


def honest(close):
    out = np.zeros(len(close), dtype=bool)
    out[5:] = close[5:] > close[:-5]
    return out


def peek(close):
    return np.append(close[1:], close[-1]) > close * 1.002


CHEAP = NamedSample("cheap", synthetic_sample(1200, 3, price=0.5))
LONG = NamedSample("long", synthetic_sample(3000, 4))


@pytest.mark.parametrize(("gate", "caught_on"), [
    (lambda c: c[0] < 10, "cheap"),  # price level
    (lambda c: len(c) > 2500, "long"),  # series length
])
def test_data_switching_peeks_are_caught_on_the_extra_sample_that_switches_them_on(gate, caught_on):
    src = Rule(lambda c: peek(c) if gate(c) else honest(c))
    found = check_extra_samples(src, [CHEAP, LONG], [{"n": 1}], cut_points=2, max_warmup=1000)
    assert found is not None and found.sample == caught_on and found.reason == "lookahead:truncation"
    assert found.detail.startswith("signals differ at bar ") and found.detail.endswith(f"on sample {caught_on}")


def test_causal_rule_passes_every_extra_with_a_few_calls_each():
    src = Rule(honest)
    assert check_extra_samples(src, [CHEAP, LONG], [{"n": 1}], cut_points=2, max_warmup=1000) is None
    # cheap: full + short + 2 cuts + 2 shuffles; long (> 1,500 bars): + one warm-up rung
    assert src.calls == 6 + 7


def test_history_dependence_on_an_extra_is_warmup_unbounded():
    src = Rule(lambda c: c > c[0] * 1.01 if c[0] > 1000 else honest(c))  # anchored to the first bar when pricey
    found = check_extra_samples(src, [CHEAP, LONG], [{"n": 1}], cut_points=1, max_warmup=1000)
    assert found is not None and found.sample == "long" and found.reason == "warmup:unbounded"
    assert "within 1000 bars of warm-up" in found.detail


def test_a_sandbox_failure_on_an_extra_names_the_sample():
    class Crashes(Rule):
        def signals(self, data, params_list):
            if data["close"][0] < 1:
                raise StrategyRejected("execution:error", "ZeroDivisionError: float division by zero")
            return super().signals(data, params_list)

    found = check_extra_samples(Crashes(honest), [LONG, CHEAP], [{"n": 1}], cut_points=1, max_warmup=1000)
    assert (found.sample, found.reason) == ("cheap", "execution:error")
    assert found.detail == "ZeroDivisionError: float division by zero on sample cheap"


def test_backtest_span_is_the_loaded_length_on_the_shortest_timeframe():
    assert backtest_span(250, 180, ["1h", "15m", "4h"]) == ("15m", 250 + 180 * 96)
    assert backtest_span(250, 180, ["4h", "1h"]) == ("1h", 4570)
    with pytest.raises(ValueError):
        backtest_span(250, 180, ["7m"])
