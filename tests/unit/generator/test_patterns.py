"""Pattern source: each price pattern fires exactly where a plain bar-by-bar reading of its
rule says, mirrors for shorts, and only reads bars <= i.

The references below are loops written from the rule's English statement (the patterns
module's docstring), independent of the vectorised generated code.
"""

from __future__ import annotations

from itertools import product

import numpy as np
import pytest

from sixbtc.generator import generate, make_genome, render
from sixbtc.generator.patterns import PATTERN_EXITS, PATTERN_FILTERS, PATTERNS
from sixbtc.strategy.inputs import data_keys

N_BARS = 400


def _series(seed: int, n: int = N_BARS) -> dict[str, np.ndarray]:
    """Integer-valued OHLC (many ties, inside bars, equal ranges) around 1,000."""
    rng = np.random.default_rng(seed)
    close = 1000.0 + np.cumsum(rng.integers(-3, 4, n)).astype(float)
    open_ = np.concatenate(([1000.0], close[:-1])) + rng.integers(-2, 3, n)
    high = np.maximum(open_, close) + rng.integers(0, 3, n)
    low = np.minimum(open_, close) - rng.integers(0, 3, n)
    return {"open": open_, "high": high, "low": low, "close": close, "volume": np.ones(n)}


def _with_inputs(data: dict[str, np.ndarray], inputs: tuple[str, ...]) -> dict[str, np.ndarray]:
    """``data`` plus synthetic arrays for the declared inputs of a filter (BTC, funding, clock)."""
    n, rng, out = len(data["close"]), np.random.default_rng(11), dict(data)
    for key in data_keys(inputs):
        if key == "open_time":
            out[key] = 1_700_006_400_000 + 3_600_000 * np.arange(n, dtype=np.int64)
        elif key in ("funding", "open_interest"):
            out[key] = rng.normal(0.0, 1e-4, n)
        else:
            out[key] = 1000.0 + np.cumsum(rng.normal(0.0, 3.0, n))
    return out


def _mirror(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Price reflected about 2,000: highs become lows, up bars down bars."""
    return {"open": 2000 - data["open"], "high": 2000 - data["low"], "low": 2000 - data["high"],
            "close": 2000 - data["close"], "volume": data["volume"]}


def _strategy(load_strategy, pattern: str, direction: str, filt: str = "none",
              exit_: str = "time"):
    genome = make_genome("pattern", (pattern, filt, exit_), direction, np.random.default_rng(0))
    name = f"Strategy_{genome['strategy_type']}_0000beef"
    strategy, _ = load_strategy(render(genome, name), name)
    return strategy


def _entries(load_strategy, pattern: str, data: dict, params: dict, direction: str = "long"):
    entries, _ = _strategy(load_strategy, pattern, direction).signals(data, dict(params, hold_bars=3))
    return entries


# ----------------------------------------------------------------- loop references (long)
def _ref(pattern: str, d: dict[str, np.ndarray], q: dict) -> np.ndarray:
    o, h, lo, c = d["open"], d["high"], d["low"], d["close"]
    n = len(c)
    out = np.zeros(n, dtype=bool)
    for i in range(n):
        out[i] = _REFS[pattern](o, h, lo, c, i, q)
    return out


def _streak(i, n, ok) -> bool:
    return i >= n and all(ok(j) for j in range(i - n + 1, i + 1))


def _pos(h, lo, c, i) -> float:
    return (c[i] - lo[i]) / (h[i] - lo[i]) if h[i] > lo[i] else np.nan


_REFS = {
    "close_streak": lambda o, h, lo, c, i, q: _streak(
        i, q["streak_n"], lambda j: c[j] > c[j - 1] and c[j] > o[j]),
    "staircase": lambda o, h, lo, c, i, q: _streak(i, q["streak_n"], lambda j: lo[j] > lo[j - 1]),
    "run_exhaustion": lambda o, h, lo, c, i, q: _streak(i, q["fade_n"], lambda j: lo[j] < lo[j - 1]),
    "inside_bar_breakout": lambda o, h, lo, c, i, q: i >= 2 and h[i - 1] < h[i - 2]
    and lo[i - 1] > lo[i - 2] and c[i] > h[i - 1] * (1 + q["ib_buffer"]),
    "outside_bar": lambda o, h, lo, c, i, q: i >= 1 and h[i] > h[i - 1] and lo[i] < lo[i - 1]
    and _pos(h, lo, c, i) >= q["ob_close"],
    "engulfing": lambda o, h, lo, c, i, q: i >= 1 + q["engulf_n"] and c[i - 1] < o[i - 1]
    and c[i] > o[i] and o[i] <= c[i - 1] and c[i] >= o[i - 1]
    and abs(c[i] - o[i]) >= q["engulf_k"] * abs(c[i - 1] - o[i - 1])
    and c[i - 1] < c[i - 1 - q["engulf_n"]],
    "pin_bar": lambda o, h, lo, c, i, q: i >= q["pin_n"] - 1 and h[i] > lo[i]
    and min(o[i], c[i]) - lo[i] >= q["pin_k"] * abs(c[i] - o[i])
    and min(o[i], c[i]) - lo[i] >= q["pin_frac"] * (h[i] - lo[i])
    and lo[i] <= lo[i - q["pin_n"] + 1 : i + 1].min(),
    "ibs_reversion": lambda o, h, lo, c, i, q: _pos(h, lo, c, i) <= q["ibs_frac"],
    "range_close": lambda o, h, lo, c, i, q: i >= q["rc_n"] - 1 and (
        (hh := h[i - q["rc_n"] + 1 : i + 1].max()) > (ll := lo[i - q["rc_n"] + 1 : i + 1].min())
    ) and (hh - c[i]) / (hh - ll) <= q["rc_frac"],
    "nr_breakout": lambda o, h, lo, c, i, q: i - 1 >= max(q["nr_n"], q["brk_n"]) - 1
    and (h - lo)[i - 1] <= (h - lo)[i - q["nr_n"] : i].min()
    and c[i] > h[i - q["brk_n"] : i].max(),
}


def _param_sets(pattern: str) -> list[dict]:
    choices = PATTERNS[pattern].choices
    return [dict(zip(choices, values, strict=True)) for values in product(*choices.values())]


def test_every_pattern_has_a_reference():
    assert set(_REFS) == set(PATTERNS)


@pytest.mark.parametrize("pattern", sorted(PATTERNS))
def test_long_pattern_matches_its_bar_by_bar_reference(load_strategy, pattern):
    data = _series(1)
    fired = 0
    for q in _param_sets(pattern):
        got = _entries(load_strategy, pattern, data, q)
        want = _ref(pattern, data, q)
        assert np.array_equal(got, want), f"{pattern} {q}: first difference at bar " \
            f"{int(np.flatnonzero(got != want)[0])}"
        fired += int(want.sum())
    assert fired > 0, f"{pattern} never fired on the synthetic series: the test proves nothing"


@pytest.mark.parametrize("pattern", sorted(PATTERNS))
def test_short_pattern_is_the_long_pattern_on_the_mirrored_series(load_strategy, pattern):
    data = _series(2)
    for q in _param_sets(pattern):
        if q.get("ib_buffer", 0.0) != 0.0:  # a buffer is a fraction of the price: not mirror-symmetric
            continue
        short = _entries(load_strategy, pattern, data, q, "short")
        assert np.array_equal(short, _entries(load_strategy, pattern, _mirror(data), q)), q


def test_hand_made_bars_give_the_expected_signals(load_strategy):
    #             open   high   low    close
    bars = np.array([[100, 110, 90, 105],    # 0 mother bar
                     [104, 108, 95, 100],    # 1 inside bar, down bar
                     [99, 112, 94, 111],     # 2 breaks the inside high; engulfs bar 1; outside bar
                     [111, 112, 100, 111.5],  # 3 hammer shape, but fewer than pin_n bars so far
                     [111, 111.5, 88, 111.2]], dtype=float)  # 4 hammer at the 5-bar low
    data = {"open": bars[:, 0], "high": bars[:, 1], "low": bars[:, 2], "close": bars[:, 3],
            "volume": np.ones(5)}
    ib = _entries(load_strategy, "inside_bar_breakout", data, {"ib_buffer": 0.0})
    ob = _entries(load_strategy, "outside_bar", data, {"ob_close": 0.9})
    pin = _entries(load_strategy, "pin_bar", data, {"pin_n": 5, "pin_k": 2.0, "pin_frac": 0.6})
    eng = _entries(load_strategy, "engulfing", data, {"engulf_n": 1, "engulf_k": 1.0})
    assert ib.tolist() == [False, False, True, False, False]
    assert ob.tolist() == [False, False, True, False, False]
    assert pin.tolist() == [False, False, False, False, True]
    assert eng.tolist() == [False, False, True, False, False]


@pytest.mark.parametrize("pattern", sorted(PATTERNS))
def test_patterns_are_causal_with_every_filter_and_exit(load_strategy, pattern):
    data = _series(3)
    rng = np.random.default_rng(7)
    for filt, exit_, direction in product(sorted(PATTERN_FILTERS), sorted(PATTERN_EXITS),
                                          ("long", "short")):
        genome = make_genome("pattern", (pattern, filt, exit_), direction, rng, max_grid=4)
        name = f"Strategy_{genome['strategy_type']}_0000cafe"
        strategy, spec = load_strategy(render(genome, name), name)
        params, given = spec.grid()[-1], _with_inputs(data, spec.inputs)
        full = strategy.signals(given, params)
        for cut in (150, 301):
            part = strategy.signals({k: v[:cut].copy() for k, v in given.items()}, params)
            for whole, head in zip(full, part, strict=True):
                assert np.array_equal(whole[:cut], head), (pattern, filt, exit_, direction, cut)


def test_pattern_source_is_generated_and_reproducible():
    first = generate(30, np.random.default_rng(5), sources=("pattern",))
    again = generate(30, np.random.default_rng(5), sources=("pattern",))
    assert [c.code for c in first.candidates] == [c.code for c in again.candidates]
    assert {c.source.value for c in first.candidates} == {"pattern"}
    assert len({c.genome["blocks"][0]["name"] for c in first.candidates}) >= 6
    for cand in first.candidates:
        assert cand.name in cand.code and "price-pattern system" in cand.code


@pytest.mark.parametrize("direction", ["long", "short"])
def test_every_pattern_fires_on_real_candles_for_most_parameter_sets(btc_1h, load_strategy, direction):
    for pattern in sorted(PATTERNS):
        counts = [int(_entries(load_strategy, pattern, btc_1h, q, direction).sum())
                  for q in _param_sets(pattern)]
        assert np.mean(np.array(counts) >= 10) >= 0.9, (pattern, counts)
