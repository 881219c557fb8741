"""Pattern strategies go through the real validator (sandbox, AST gate, truncation, shuffle
and warm-up tests on the primary and the extra samples): none is refused. One strategy per
pattern, the filters, exits and directions rotating so each of them is covered too."""

from __future__ import annotations

import numpy as np

from sixbtc.generator import make_genome, render
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
