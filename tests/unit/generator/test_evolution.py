"""Evolution: mutation and crossover of stored genomes give new, renderable strategies with
their lineage, deterministically for a seed."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from sixbtc.generator import code_hash, make_genome, render
from sixbtc.generator.blocks import grid_size
from sixbtc.generator.evolution import (
    Parent,
    child_genome,
    crossover,
    evolvable,
    evolve,
    generate_mixed,
    mutate,
)
from sixbtc.generator.factory import REGISTRIES
from sixbtc.generator.render import param_space_of


def _parent(name: str, source: str, blocks: tuple[str, ...], direction: str = "long",
            seed: int = 0, origin: str = "pool") -> Parent:
    genome = make_genome(source, blocks, direction, np.random.default_rng(seed), max_grid=16)
    return Parent(name, json.loads(json.dumps(genome)), origin)


PARENTS = [
    _parent("Strategy_BRK_00000001", "unger", ("breakout", "adx", "time")),
    _parent("Strategy_REV_00000002", "unger", ("run_reversal", "trend_sma", "sma_cross"), "short", 1),
    _parent("Strategy_REV_00000003", "pattern", ("pin_bar", "none", "opposite"), seed=2),
    _parent("Strategy_VOL_00000004", "pattern", ("nr_breakout", "volatility", "time"), seed=3,
            origin="near_miss"),
    _parent("Strategy_TRN_00000005", "template", ("sma_cross",), seed=4),
]


def _code(genome: dict) -> str:
    return render(genome, f"Strategy_{genome['strategy_type']}_0000abcd")


def _check_values_are_candidates(genome: dict) -> None:
    for block in genome["blocks"]:
        choices = dict(REGISTRIES[genome["source"]])[block["role"]][block["name"]].choices
        assert set(block["grid"]) == set(choices)
        for key, values in block["grid"].items():
            assert values and set(values) <= set(choices[key]), (block, key)


def test_mutations_cover_every_operation_and_keep_genomes_valid():
    rng = np.random.default_rng(11)
    ops = Counter()
    for parent in PARENTS:
        for _ in range(60):
            child = mutate(parent, rng, max_grid=16)
            op = child["lineage"]["operation"]
            ops[op.rsplit(":", 1)[0] if op.startswith("mutate:grid") else op] += 1
            assert child["lineage"]["parents"] == [parent.name]
            assert child["lineage"]["origins"] == [parent.origin] and child["lineage"]["generation"] == 1
            assert child["direction"] == parent.genome["direction"]
            assert child["source"] == parent.genome["source"]
            assert grid_size(param_space_of(child)) <= 16
            _check_values_are_candidates(child)
            changed = [b["role"] for b, pb in zip(child["blocks"], parent.genome["blocks"], strict=True)
                       if b != pb] + (["risk"] if child["risk"] != parent.genome["risk"] else [])
            if op in ("mutate:filter", "mutate:exit"):
                assert op.split(":")[1] in changed
                block = next(b for b in child["blocks"] if b["role"] == op.split(":")[1])
                assert block["name"] != next(b for b in parent.genome["blocks"]
                                             if b["role"] == op.split(":")[1])["name"]
    assert set(ops) == {"mutate:grid", "mutate:risk", "mutate:filter", "mutate:exit"}
    assert min(ops.values()) >= 20


def test_a_template_only_mutates_its_grids():
    rng = np.random.default_rng(3)
    ops = {mutate(PARENTS[4], rng)["lineage"]["operation"] for _ in range(40)}
    assert ops == {"mutate:grid:template", "mutate:risk"}


def test_crossover_takes_the_entry_of_one_parent_and_the_rest_of_the_other():
    a, b = PARENTS[0], PARENTS[1]
    child = crossover(a, b, np.random.default_rng(0), max_grid=64)
    assert child["blocks"][0]["name"] == "breakout" and child["direction"] == "long"
    assert [blk["name"] for blk in child["blocks"][1:]] == ["trend_sma", "sma_cross"]
    assert child["strategy_type"] == "BRK" and child["timeframes"] == a.genome["timeframes"]
    assert child["lineage"] == {"operation": "crossover", "parents": [a.name, b.name],
                                "origins": ["pool", "pool"], "generation": 1}
    assert "Evolved by crossover of Strategy_BRK_00000001, Strategy_REV_00000002" in _code(child)
    with pytest.raises(ValueError, match="one multi-block source"):
        crossover(a, PARENTS[2], np.random.default_rng(0))
    with pytest.raises(ValueError, match="one multi-block source"):
        crossover(PARENTS[4], PARENTS[4], np.random.default_rng(0))


def test_children_render_to_new_code_and_lineage_leaves_the_hash_alone():
    rng = np.random.default_rng(5)
    parent_hashes = {code_hash(_code(p.genome)) for p in PARENTS}
    children = [child_genome(PARENTS, rng) for _ in range(100)]
    assert Counter(c["lineage"]["operation"] == "crossover" for c in children)[True] >= 20
    new = [c for c in children if code_hash(_code(c)) not in parent_hashes]
    assert len(new) >= 80
    child = children[0]
    assert code_hash(_code(child)) == code_hash(_code({k: v for k, v in child.items() if k != "lineage"}))
    grandchild = mutate(Parent("Strategy_X_child", child), rng)
    assert grandchild["lineage"]["generation"] == 2


def test_evolution_is_deterministic_and_skips_stored_hashes():
    first = evolve(12, np.random.default_rng(9), PARENTS)
    again = evolve(12, np.random.default_rng(9), PARENTS)
    assert [c.code for c in first.candidates] == [c.code for c in again.candidates]
    assert len(first.candidates) == 12 and len({c.code_hash for c in first.candidates}) == 12
    stored = {c.code_hash for c in first.candidates[:6]}
    later = evolve(12, np.random.default_rng(9), PARENTS, existing_hashes=stored)
    assert not stored & {c.code_hash for c in later.candidates} and later.duplicates >= 6
    for cand in first.candidates:
        assert cand.genome["lineage"]["parents"][0] in {p.name for p in PARENTS}
        assert cand.source.value == cand.genome["source"] and cand.name in cand.code


def test_genomes_the_generator_cannot_render_are_not_parents():
    good = PARENTS[0]
    bad = [Parent("a", {}), Parent("b", dict(good.genome, version=99)),
           Parent("c", dict(good.genome, source="llm")),
           Parent("d", dict(good.genome, blocks=[dict(good.genome["blocks"][0], name="zigzag"),
                                                 *good.genome["blocks"][1:]])),
           Parent("e", dict(good.genome, blocks=good.genome["blocks"][:2])),
           Parent("f", good.genome, origin="elsewhere")]
    assert evolvable(good) and not any(evolvable(p) for p in bad)
    assert evolve(5, np.random.default_rng(0), bad).candidates == []
    with pytest.raises(ValueError, match="cannot be evolved"):
        mutate(bad[1], np.random.default_rng(0))


def test_mixed_batches_take_the_configured_share_of_children():
    rng = np.random.default_rng(1)
    batches = [generate_mixed(10, rng, parents=PARENTS, evolution_share=0.25) for _ in range(20)]
    children = sum(1 for b in batches for c in b.candidates if "lineage" in c.genome)
    assert all(len(b.candidates) == 10 for b in batches)
    assert 40 <= children <= 60  # 2 per batch + 1 with probability 0.5: 50 +- 2.2
    none = generate_mixed(10, np.random.default_rng(1), parents=(), evolution_share=0.25)
    assert len(none.candidates) == 10 and not any("lineage" in c.genome for c in none.candidates)
    off = generate_mixed(10, np.random.default_rng(1), parents=PARENTS, evolution_share=0.0)
    assert not any("lineage" in c.genome for c in off.candidates)
    with pytest.raises(ValueError, match="evolution_share must be a fraction"):
        generate_mixed(10, rng, parents=PARENTS, evolution_share=1.5)


def test_a_filter_swap_keeps_to_the_filters_of_the_parents_timeframes():
    genome = make_genome("unger", ("breakout", "adx", "time"), "long", np.random.default_rng(0),
                         max_grid=16, timeframes=("1d",))
    parent = Parent("Strategy_BRK_00000009", json.loads(json.dumps(genome)), "pool")
    rng = np.random.default_rng(5)
    swapped = set()
    for _ in range(200):
        child = mutate(parent, rng, max_grid=16)
        if child["lineage"]["operation"] == "mutate:filter":
            swapped.add(child["blocks"][1]["name"])
    assert swapped and not swapped & {"daily_trend", "daily_candle"}


def test_a_crossover_refuses_a_daily_filter_on_a_daily_strategy():
    daily = make_genome("unger", ("breakout", "adx", "time"), "long", np.random.default_rng(0),
                        max_grid=16, timeframes=("1d",))
    first = Parent("Strategy_BRK_0000000a", json.loads(json.dumps(daily)), "pool")
    with_daily = _parent("Strategy_BRK_0000000b", "unger", ("breakout", "daily_trend", "time"))
    with pytest.raises(ValueError, match="daily_trend"):
        crossover(first, with_daily, np.random.default_rng(0), max_grid=16)
    assert crossover(with_daily, first, np.random.default_rng(0), max_grid=16)["timeframes"]
