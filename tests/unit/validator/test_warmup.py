"""Warm-up sensitivity search with in-process signal sources (no sandbox needed)."""

from __future__ import annotations

import numpy as np
import pytest

from sixbtc.strategy import indicators as ind
from sixbtc.validator import required_warmup
from sixbtc.validator.warmup import mismatch_at_warmup

N = 2000


def _walk(n: int = N, seed: int = 11) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    return {"open": close, "high": close * 1.002, "low": close * 0.998, "close": close,
            "volume": np.ones(n)}  # fmt: skip


class FuncSource:
    """A SignalSource computing ``rule(close, params) -> entries`` in-process."""

    def __init__(self, rule):
        self.rule, self.calls = rule, 0

    def signals(self, data, params_list):
        self.calls += 1
        entries = np.array([self.rule(np.asarray(data["close"]), p) for p in params_list])
        return entries, np.zeros_like(entries)


def _search(rule, params=({"n": 20},), **kw):
    sample, source = _walk(), FuncSource(rule)
    full = source.signals(sample, list(params))
    return required_warmup(source, sample, list(params), full, **kw), source


def _above_sma(close, p):  # fires on about half the bars: every missing bar shows
    return close > ind.sma(close, p["n"])


def _sma_cross(close, p):  # sparse: a missing cross shows only where one happened
    return ind.cross_above(close, ind.sma(close, p["n"]))


def test_sma_state_needs_exactly_its_window_minus_one_bar():
    result, source = _search(_above_sma, ({"n": 20}, {"n": 60}))
    assert result.bars == 59 and result.checked_up_to == 1000  # SMA(60) defined from bar 59
    assert source.calls - 1 == result.calls <= 4 * 25


def test_sparse_cross_signals_are_bounded_by_the_window():
    result, _ = _search(_sma_cross, ({"n": 20}, {"n": 60}))
    assert 30 <= result.bars <= 60  # exact equality of sparse signals: a lower bound


def test_stateless_rule_needs_no_warmup():
    result, _ = _search(lambda c, p: c > 100.0)
    assert result.bars == 0


def test_expanding_statistic_is_unbounded_and_names_a_bar():
    def above_expanding_mean(c, p):
        return c > np.cumsum(c) / np.arange(1, len(c) + 1)

    result, _ = _search(above_expanding_mean)
    assert result.bars is None and 0 <= result.bar < 500 and result.params == {"n": 20}


def test_bar_count_clock_is_unbounded_even_when_it_lines_up_with_round_warmups():
    result, _ = _search(lambda c, p: np.arange(len(c)) % p["n"] == 0)
    assert result.bars is None


def test_long_ema_needs_hundreds_of_bars_but_less_than_the_maximum():
    result, _ = _search(lambda c, p: ind.cross_above(c, ind.ema(c, p["n"])), ({"n": 100},))
    assert result.bars is not None and 150 < result.bars < 1000


def test_short_sample_caps_the_search_and_bad_arguments_raise():
    sample, source = _walk(700), FuncSource(_above_sma)
    full = source.signals(sample, [{"n": 20}])
    result = required_warmup(source, sample, [{"n": 20}], full, eval_bars=300)
    assert result.bars == 19 and result.checked_up_to == 400
    with pytest.raises(ValueError, match="eval_bars"):
        required_warmup(source, sample, [{"n": 20}], full, eval_bars=2)
    with pytest.raises(ValueError, match="max_warmup"):
        required_warmup(source, sample, [{"n": 20}], full, max_warmup=0)
    with pytest.raises(ValueError, match="longer than eval_bars"):
        required_warmup(source, sample, [{"n": 20}], full, eval_bars=700)


def test_one_warmup_rung_compares_the_last_bars_with_the_full_history():
    sample, params = _walk(1600), [{"n": 20}]
    sma = FuncSource(_above_sma)
    full = sma.signals(sample, params)
    assert mismatch_at_warmup(sma, sample, params, full, 100) is None  # 100 bars cover an SMA(20)
    calls = sma.calls
    assert mismatch_at_warmup(sma, sample, params, full, 1100) is None and sma.calls == calls  # whole sample
    anchored = FuncSource(lambda c, p: c > c[0])  # depends on where the data starts
    full = anchored.signals(sample, params)
    k, bar = mismatch_at_warmup(anchored, sample, params, full, 1000)
    assert k == 0 and 0 <= bar < 500
    with pytest.raises(ValueError, match="must fit"):
        mismatch_at_warmup(sma, sample, params, full, 1200)
