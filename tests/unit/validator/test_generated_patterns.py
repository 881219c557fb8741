"""Pattern strategies and children of evolution go through the real validator (sandbox, AST
gate, truncation, shuffle and warm-up tests on the primary and the extra samples): none is
refused. One strategy per pattern, the filters, exits and directions rotating so each of them
is covered too."""

from __future__ import annotations

import numpy as np

from sixbtc.generator import make_genome, render
from sixbtc.generator.evolution import Parent, evolve
from sixbtc.generator.patterns import PATTERN_EXITS, PATTERN_FILTERS, PATTERNS
from sixbtc.validator import validate


def test_every_pattern_strategy_passes_the_validator(sandbox, sample):
    rng = np.random.default_rng(2026)
    filters, exits = sorted(PATTERN_FILTERS), sorted(PATTERN_EXITS)
    recent = {k: v[-1500:] for k, v in sample.items()}
    refused = []
    for i, pattern in enumerate(sorted(PATTERNS)):
        blocks = (pattern, filters[i % len(filters)], exits[i % len(exits)])
        genome = make_genome("pattern", blocks, ("long", "short")[i % 2], rng, max_grid=8)
        name = f"Strategy_{genome['strategy_type']}_{i:08x}"
        report = validate(render(genome, name), sandbox, recent, allowed_warmup=250)
        if not report.passed:
            refused.append((blocks, report.phase, report.reason, report.detail))
    assert not refused


def test_children_of_evolution_pass_the_validator(sandbox, sample):
    rng = np.random.default_rng(7)
    parents = [Parent("Strategy_BRK_00000001", make_genome("pattern", ("nr_breakout", "adx", "time"), "long", rng)),
               Parent("Strategy_REV_00000002", make_genome("pattern", ("pin_bar", "none", "opposite"), "short", rng),
                      "near_miss"),
               Parent("Strategy_MOM_00000003", make_genome("unger", ("close_run", "volatility", "sma_cross"), "long", rng))]
    children = evolve(4, rng, parents, max_grid=8).candidates
    assert len(children) == 4
    recent = {k: v[-1500:] for k, v in sample.items()}
    refused = [(c.genome["lineage"], r.reason, r.detail) for c in children
               if not (r := validate(c.code, sandbox, recent, allowed_warmup=250)).passed]
    assert not refused
