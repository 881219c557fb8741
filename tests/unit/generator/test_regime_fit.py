"""Regime-aware unger draws: entries follow the coins' regimes; no regimes, no change."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from sixbtc.domain.strategy import StrategyType
from sixbtc.generator import generate
from sixbtc.generator.regime_fit import entries_for
from sixbtc.generator.unger import ENTRIES

REVERSAL = set(entries_for("REVERSAL"))
TREND = set(entries_for("TREND"))


def _entries(regimes, n=300, seed=7):
    result = generate(n, np.random.default_rng(seed), sources=("unger",), regimes=regimes)
    assert len(result.candidates) == n
    return [next(b["name"] for b in c.genome["blocks"] if b["role"] == "entry") for c in result.candidates], result


def test_the_families_partition_the_entries():
    assert TREND and REVERSAL and not TREND & REVERSAL
    assert TREND | REVERSAL == set(ENTRIES) == set(entries_for("MIXED")) == set(entries_for(None))
    assert all(ENTRIES[e].strategy_type is StrategyType.REV for e in REVERSAL)
    assert all(ENTRIES[e].strategy_type is not StrategyType.REV for e in TREND)


def test_trend_coins_get_trend_entries_reversal_coins_reversal_entries():
    trend, result = _entries({"BTC": "TREND", "ETH": "TREND"})
    assert set(trend) == TREND  # every trend entry drawn, nothing else
    assert {c.genome["regime"] for c in result.candidates} == {"TREND"}
    rev, _ = _entries({"BTC": "REVERSAL"})
    assert set(rev) == REVERSAL


def test_the_mix_follows_the_share_of_coins_in_each_regime():
    regimes = {"A": "TREND", "B": "TREND", "C": "TREND", "D": "REVERSAL"}  # 3/4 trend coins
    names, result = _entries(regimes, n=800)
    share_rev = sum(n in REVERSAL for n in names) / len(names)
    assert share_rev == pytest.approx(0.25, abs=0.05)  # binomial sd 0.015
    # each strategy's entry fits the regime of the coin it drew
    assert all((c.genome["regime"] == "REVERSAL") == (n in REVERSAL) for c, n in zip(result.candidates, names, strict=True))
    assert Counter(c.genome["regime"] for c in result.candidates)["REVERSAL"] == sum(n in REVERSAL for n in names)
    # MIXED coins draw any entry uniformly: the REV share is that of REV entries
    mixed, _ = _entries({"A": "MIXED"}, n=800)
    assert sum(n in REVERSAL for n in mixed) / 800 == pytest.approx(len(REVERSAL) / len(ENTRIES), abs=0.05)


def test_no_regimes_leaves_the_draws_of_a_seed_unchanged():
    base = generate(40, np.random.default_rng(9))
    for regimes in (None, {}):
        again = generate(40, np.random.default_rng(9), regimes=regimes)
        assert [c.code for c in again.candidates] == [c.code for c in base.candidates]
        assert all("regime" not in c.genome for c in again.candidates)


def test_templates_ignore_regimes_and_bad_regimes_are_refused():
    result = generate(20, np.random.default_rng(1), sources=("template",), regimes={"BTC": "REVERSAL"})
    assert all("regime" not in c.genome for c in result.candidates)
    with pytest.raises(ValueError, match=r"regimes\['BTC'\]"):
        generate(2, np.random.default_rng(1), regimes={"BTC": "SIDEWAYS"})
