"""Empirical look-ahead tests with in-process signal sources (no sandbox needed)."""

from __future__ import annotations

import numpy as np
import pytest

from sixbtc.validator import choose_cuts, run_lookahead_tests, shuffle_after

N = 600


def _walk(n: int = N, seed: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.concatenate(([100.0], close[:-1])) * (1 + rng.normal(0, 0.001, n))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.002, n)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.002, n)))
    return {"open": open_, "high": high, "low": low, "close": close, "volume": rng.uniform(1, 9, n)}


class FuncSource:
    """A SignalSource computing ``rule(close, params) -> entries`` in-process."""

    def __init__(self, rule):
        self.rule = rule
        self.calls: list[int] = []

    def signals(self, data, params_list):
        close = np.asarray(data["close"])
        self.calls.append(len(close))
        entries = np.array([self.rule(close, p) for p in params_list])
        return entries, np.zeros_like(entries)


def _momentum(close, p):  # causal: close above its value p["n"] bars ago
    out = np.zeros(len(close), dtype=bool)
    out[p["n"] :] = close[p["n"] :] > close[: -p["n"]] * 1.01
    return out


def _peek(close, p):  # look-ahead: next close higher
    out = np.zeros(len(close), dtype=bool)
    out[:-1] = close[1:] > close[:-1] * 1.005
    return out


def _run(rule, sample, cut_points=5):
    source = FuncSource(rule)
    params = [{"n": 3}, {"n": 10}]
    full = source.signals(sample, params)
    return run_lookahead_tests(source, sample, params, full, cut_points), source


def test_causal_rule_passes_both_tests():
    sample = _walk()
    hit, source = _run(_momentum, sample)
    assert hit is None
    assert len(source.calls) == 1 + 1 + 2 * 5  # full + short cut + 5 truncations + 5 shuffles
    assert source.calls[1] == N // 10  # the short-history cut comes first
    assert sorted(source.calls[1:7]) == source.calls[1:7] and max(source.calls[1:7]) < N


def test_code_that_cheats_only_on_little_data_is_caught_by_the_short_cut():
    def little_data_cheat(close, p):  # perfect foresight only while the history is short
        return _peek(close, p) if len(close) < N // 4 else _momentum(close, p)

    hit, _ = _run(little_data_cheat, _walk())
    assert hit is not None and hit.test == "truncation" and hit.cut == N // 10


def test_peeking_rule_fails_truncation_at_a_signal_bar():
    sample = _walk()
    hit, _ = _run(_peek, sample)
    assert hit is not None and hit.test == "truncation"
    assert hit.bar == hit.cut - 1  # the last kept bar is where the peek shows
    assert _peek(sample["close"], {})[hit.bar]  # it fired on the full sample


def test_stateful_cheat_that_beats_truncation_is_caught_by_the_shuffle_test():
    memory: list[np.ndarray] = []

    def cheat(close, p):  # remembers the first (full) history and serves prefixes from it
        if not memory:
            memory.append(close.copy())
        known = memory[0]
        if len(close) < len(known) and np.array_equal(known[: len(close)], close):
            return _peek(known, p)[: len(close)]
        return _peek(close, p)

    hit, _ = _run(cheat, _walk())
    assert hit is not None and hit.test == "shuffle" and hit.bar == hit.cut - 1


def test_global_statistic_fails():
    hit, _ = _run(lambda c, p: c > np.median(c), _walk())
    assert hit is not None and hit.test == "truncation" and 0 <= hit.bar < hit.cut


def test_shuffle_after_keeps_prefix_ohlc_consistency_and_permutes_returns():
    sample = _walk()
    cut = 250
    out = shuffle_after(sample, cut, seed=1)
    for key in sample:
        np.testing.assert_array_equal(out[key][:cut], sample[key][:cut])
    assert np.all(out["high"] >= np.maximum(out["open"], out["close"]) * (1 - 1e-12))
    assert np.all(out["low"] <= np.minimum(out["open"], out["close"]) * (1 + 1e-12))
    returns = lambda d: d["close"][cut:] / d["close"][cut - 1 : -1]  # noqa: E731
    np.testing.assert_allclose(np.sort(returns(out)), np.sort(returns(sample)), rtol=1e-12)
    assert not np.allclose(returns(out), returns(sample))
    np.testing.assert_array_equal(np.sort(out["volume"][cut:]), np.sort(sample["volume"][cut:]))
    np.testing.assert_array_equal(shuffle_after(sample, cut, 1)["close"], out["close"])
    with pytest.raises(ValueError, match="cut"):
        shuffle_after(sample, N, seed=1)


def test_choose_cuts_prefers_signal_bars_and_respects_bounds():
    entries = np.zeros((2, 400), dtype=bool)
    entries[0, [50, 150, 250, 350]] = True
    cuts = choose_cuts(entries, np.zeros_like(entries), 6)
    assert len(cuts) == 6 and cuts == sorted(set(cuts))
    assert all(100 <= c <= 399 for c in cuts)
    assert {151, 251, 351} <= set(cuts)
    assert len(choose_cuts(np.zeros((1, 400), dtype=bool), np.zeros((1, 400), dtype=bool), 4)) == 4
    with pytest.raises(ValueError, match="cut_points"):
        choose_cuts(entries, entries, 0)
    with pytest.raises(ValueError, match="bars"):
        choose_cuts(entries[:, :5], entries[:, :5], 3)
