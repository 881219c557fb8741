"""The indicator cache: same values as uncached, read-only results, identity keys, LRU bound."""

from __future__ import annotations

import numpy as np
import pytest

from sixbtc.core.errors import StrategyRejected
from sixbtc.strategy import indicator_cache as ic
from sixbtc.strategy import indicators as ind
from sixbtc.strategy.sandbox import SandboxLimits, StrategySandbox
from sixbtc.strategy.sandbox_worker import INDICATOR_CACHE_BYTES, indicator_cache_bytes

N = 600


def _ohlcv(seed: int = 7, n: int = N) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    open_ = np.concatenate([[close[0]], close[:-1]])
    spread = np.abs(rng.normal(0.0, 0.004, n)) * close
    data = {
        "open": open_,
        "high": np.maximum(open_, close) + spread,
        "low": np.minimum(open_, close) - spread,
        "close": close,
        "volume": rng.uniform(1.0, 2.0, n),
    }
    return {k: np.frombuffer(v.tobytes()) for k, v in data.items()}  # read-only, as in the worker


@pytest.fixture
def cache():
    c = ic.IndicatorCache(64 << 20)
    ic.activate(c)
    yield c
    ic.deactivate()


def _all_indicators(d: dict[str, np.ndarray]) -> list[np.ndarray]:
    h, lo, c = d["high"], d["low"], d["close"]
    outs = [
        ind.sma(c, 10),
        ind.ema(c, 10),
        ind.rsi(c, 14),
        ind.roc(c, 5),
        ind.atr(h, lo, c, 14),
        ind.adx(h, lo, c, 14),
        ind.true_range(h, lo, c),
        ind.highest(h, 20),
        ind.lowest(lo, 20),
        ind.zscore(c, 20),
        ind.shift(c, 3),
        ind.sma(ind.ema(c, 10), 5),
    ]
    outs += [
        *ind.macd(c, 12, 26, 9),
        *ind.stoch(h, lo, c, 14, 3),
        *ind.bbands(c, 20, 2.0),
        *ind.bbands(c, 1, 2.0),
    ]
    return outs


def test_cached_values_equal_uncached_and_second_calls_hit(cache):
    data = _ohlcv()
    ic.deactivate()
    plain = _all_indicators(data)
    ic.activate(cache)
    cache.set_dataset(data)
    first = _all_indicators(data)
    misses, calls = cache.misses, cache.hits + cache.misses
    second = _all_indicators(data)
    assert cache.misses == misses  # nothing recomputed
    assert cache.hits + cache.misses == 2 * calls
    for p, f, s in zip(plain, first, second, strict=True):
        np.testing.assert_array_equal(p, f)
        assert s is f
        assert not f.flags.writeable


def test_results_cannot_be_written_or_made_writable(cache):
    data = _ohlcv()
    cache.set_dataset(data)
    out = ind.sma(data["close"], 10)
    with pytest.raises(ValueError, match="read-only"):
        out[50] = 0.0
    with pytest.raises(ValueError):
        out.flags.writeable = True
    mac = ind.macd(data["close"], 12, 26, 9)[0]
    with pytest.raises(ValueError):
        mac.flags.writeable = True
    assert np.array_equal(
        ind.sma(data["close"], 10), ind.sma(np.array(data["close"]), 10), equal_nan=True
    )


def test_unidentified_inputs_are_computed_uncached(cache):
    data = _ohlcv()
    cache.set_dataset(data)
    close = data["close"]
    before = (cache.hits, cache.misses, len(cache))
    for x in (close[1:], close * 2.0, np.array(close), list(close)):
        out = ind.sma(x, 10)
        assert out.flags.writeable  # computed as without a cache
    assert (cache.hits, cache.misses, len(cache)) == before
    ic.deactivate()
    np.testing.assert_array_equal(out, ind.sma(list(close), 10))


def test_derived_inputs_are_keyed_by_their_cached_identity(cache):
    data = _ohlcv()
    cache.set_dataset(data)
    smoothed = ind.sma(ind.ema(data["close"], 8), 4)
    n = len(cache)
    assert n == 2
    again = ind.sma(ind.ema(data["close"], 8), 4)
    assert again is smoothed and len(cache) == n


def test_token_follows_content_so_truncated_history_never_hits(cache):
    full = _ohlcv()
    token = cache.set_dataset(full)
    value = ind.ema(full["close"], 20)
    copy = {k: np.frombuffer(v.tobytes()) for k, v in full.items()}
    assert cache.set_dataset(copy) == token  # same candles, new arrays: results reused
    assert ind.ema(copy["close"], 20) is value
    short = {k: np.frombuffer(v[:400].tobytes()) for k, v in full.items()}
    assert cache.set_dataset(short) != token
    recomputed = ind.ema(short["close"], 20)
    assert recomputed.shape == (400,)
    ic.deactivate()
    np.testing.assert_array_equal(recomputed, ind.ema(np.array(short["close"]), 20))
    # the old arrays are no longer recognised once another data set is registered
    ic.activate(cache)
    hits = cache.hits
    assert ind.ema(full["close"], 20).flags.writeable and cache.hits == hits


def test_memory_bound_evicts_least_recently_used(cache):
    data = _ohlcv()
    small = ic.IndicatorCache(3 * N * 8)  # room for three series
    ic.activate(small)
    small.set_dataset(data)
    close = data["close"]
    a = ind.sma(close, 5)
    ind.sma(close, 6)
    ind.sma(close, 7)
    assert ind.sma(close, 5) is a  # touched: now most recent
    ind.sma(close, 8)  # evicts sma 6, the least recently used
    assert small.evictions == 1 and small.nbytes <= small.max_bytes and len(small) == 3
    assert ind.sma(close, 5) is a
    hits = small.hits
    ind.sma(close, 6)
    assert small.hits == hits  # recomputed
    huge = ic.IndicatorCache(N * 8 - 1)  # a single series does not fit: never stored
    ic.activate(huge)
    huge.set_dataset(data)
    assert ind.sma(close, 5).flags.writeable and len(huge) == 0


def test_evicted_result_is_no_longer_an_identity(cache):
    data = _ohlcv()
    small = ic.IndicatorCache(N * 8)
    ic.activate(small)
    small.set_dataset(data)
    e = ind.ema(data["close"], 10)
    assert small.identity(e) is not None
    ind.ema(data["close"], 11)  # evicts e
    assert small.identity(e) is None


def test_bad_arguments_raise_clear_errors(cache):
    with pytest.raises(ValueError, match="max_bytes"):
        ic.IndicatorCache(-1)
    with pytest.raises(ValueError, match="max_bytes"):
        ic.IndicatorCache(True)
    with pytest.raises(TypeError, match="IndicatorCache"):
        ic.activate({})  # type: ignore[arg-type]
    data = _ohlcv()
    cache.set_dataset(data)
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        ind.sma(data["close"], 0)
    with pytest.raises(ValueError, match="same length"):
        ind.atr(data["high"], data["low"][:-1], data["close"], 14)


def test_worker_cache_bound_follows_address_space_limit():
    mib = 1 << 20
    assert indicator_cache_bytes(-1) == INDICATOR_CACHE_BYTES
    assert indicator_cache_bytes(1024 * mib) == INDICATOR_CACHE_BYTES
    assert indicator_cache_bytes(600 * mib) == 100 * mib
    assert indicator_cache_bytes(300 * mib) == 0


MUTATING = """
import numpy as np
from sixbtc.strategy import indicators as ind

class Strategy_MOM_cafe0001:
    strategy_type = "MOM"
    direction = "long"
    timeframes = ("1h",)
    param_space = {"n": [5, 10], "mutate": [0, 1], "sl_pct": [0.02], "tp_pct": [0.04]}

    def signals(self, data, params):
        fast = ind.sma(data["close"], params["n"])
        slow = ind.sma(data["close"], 30)
        if params["mutate"]:
            slow[40] = 0.0
        return ind.cross_above(fast, slow), ind.cross_below(fast, slow)
"""


def test_sandbox_worker_serves_cached_read_only_indicators():
    data = _ohlcv(n=2000)
    sets = [{"n": n, "mutate": 0, "sl_pct": 0.02, "tp_pct": 0.04} for n in (5, 10, 5)]
    with StrategySandbox(SandboxLimits(wall_s=60.0)) as box:
        box.load(MUTATING)
        entries, exits = box.signals(data, sets)
        with pytest.raises(StrategyRejected, match="read-only"):
            box.signals(data, [{"n": 5, "mutate": 1, "sl_pct": 0.02, "tp_pct": 0.04}])
        again, _ = box.signals(data, sets)  # the failed write left nothing behind
    close = np.array(data["close"])
    for k, n in enumerate((5, 10, 5)):
        expected = ind.cross_above(ind.sma(close, n), ind.sma(close, 30))
        np.testing.assert_array_equal(entries[k], expected)
        np.testing.assert_array_equal(again[k], expected)
    assert exits.any()
