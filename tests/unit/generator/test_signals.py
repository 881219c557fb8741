"""Generated strategies run on real 1h candles: bool signals, enough entries, causal.

Every template (both directions) and every Unger entry x filter x exit combination (both
directions) is rendered, exec'd in the test process and run over its whole grid.
"""

from __future__ import annotations

from itertools import product

import numpy as np
import pytest

from sixbtc.generator import generate, make_genome, render
from sixbtc.generator.templates import TEMPLATES
from sixbtc.generator.unger import ENTRIES, EXITS, FILTERS

CUTS = (2000, 3700)


def _all_genomes() -> list[dict]:
    rng = np.random.default_rng(123)
    genomes = [make_genome("template", (name,), d, rng)
               for name, d in product(sorted(TEMPLATES), ("long", "short"))]
    genomes += [make_genome("unger", names, d, rng)
                for *names, d in product(sorted(ENTRIES), sorted(FILTERS), sorted(EXITS),
                                         ("long", "short"))]
    return genomes


@pytest.fixture(scope="module")
def strategies(load_strategy):
    out = []
    for i, genome in enumerate(_all_genomes()):
        name = f"Strategy_{genome['strategy_type']}_{i:08x}"
        out.append((genome, *load_strategy(render(genome, name), name)))
    return out


def _label(genome: dict) -> str:
    return "/".join(b["name"] for b in genome["blocks"]) + f"/{genome['direction']}"


def test_signals_are_bool_arrays_with_entries_for_most_parameter_sets(btc_1h, strategies):
    good_share = []
    for genome, strategy, spec in strategies:
        counts = []
        for params in spec.grid():
            entries, exits = strategy.signals(btc_1h, params)
            for arr in (entries, exits):
                assert arr.dtype == np.bool_ and arr.shape == btc_1h["close"].shape, _label(genome)
            counts.append(int(entries.sum()))
        assert max(counts) >= 3, f"{_label(genome)} never enters: {counts}"
        good_share.append(np.mean(np.array(counts) >= 5))
    assert len(strategies) == 2 * (len(TEMPLATES) + len(ENTRIES) * len(FILTERS) * len(EXITS))
    assert np.mean(np.array(good_share) >= 0.8) >= 0.9


def test_signals_are_causal_under_truncation(btc_1h, strategies):
    for genome, strategy, spec in strategies:
        grid = spec.grid()
        for params in (grid[0], grid[-1]):
            full_entries, full_exits = strategy.signals(btc_1h, params)
            for cut in CUTS:
                short = {k: v[:cut].copy() for k, v in btc_1h.items()}
                entries, exits = strategy.signals(short, params)
                np.testing.assert_array_equal(entries, full_entries[:cut], err_msg=_label(genome))
                np.testing.assert_array_equal(exits, full_exits[:cut], err_msg=_label(genome))


def test_generated_batch_mostly_trades(btc_1h, load_strategy):
    result = generate(40, np.random.default_rng(99))
    active = 0
    for cand in result.candidates:
        strategy, spec = load_strategy(cand.code, cand.name)
        params = spec.grid()[len(spec.grid()) // 2]
        entries, exits = strategy.signals(btc_1h, params)
        active += int(entries.sum() >= 5 and exits.any())
    assert active >= 0.9 * len(result.candidates)
