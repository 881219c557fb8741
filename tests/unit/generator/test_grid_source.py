"""The ``grid`` generator source: GRD genomes rendered to readable, contract-valid source."""

from __future__ import annotations

import ast

import numpy as np
import pytest

from sixbtc.domain.strategy import StrategySource, StrategyType
from sixbtc.generator.factory import generate, random_genome
from sixbtc.generator.grid import GRID_CHOICES, random_grid_genome, render_grid
from sixbtc.strategy.contract import StrategySpec


def _declared(code: str) -> dict:
    tree = ast.parse(code)
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    out = {}
    for node in cls.body:
        if isinstance(node, ast.Assign):
            out[node.targets[0].id] = ast.literal_eval(node.value)
    return cls.name, out


def test_generated_grid_strategies_honour_the_contract():
    batch = generate(30, np.random.default_rng(4), sources=("grid",), max_grid=48)
    assert len(batch.candidates) == 30 and batch.duplicates < 30
    directions = set()
    for cand in batch.candidates:
        assert cand.type is StrategyType.GRD and cand.source is StrategySource.GRID
        assert cand.name.startswith("Strategy_GRD_")
        name, declared = _declared(cand.code)
        spec = StrategySpec.from_declared(name, declared)
        assert spec.is_grid and len(spec.grid()) <= 48
        assert set(spec.param_space) == set(GRID_CHOICES) and "tp_pct" not in spec.param_space
        assert 'return {"center"' in cand.code and "ind.sma(close, params[\"center_n\"])" in cand.code
        directions.add(spec.direction.value)
        assert cand.genome["grid"] == {k: list(v) for k, v in spec.param_space.items()}
    assert directions == {"long", "short"}


def test_grid_genomes_are_reproducible_and_fit_the_cap():
    a = random_genome("grid", np.random.default_rng(1), max_grid=8)
    b = random_genome("grid", np.random.default_rng(1), max_grid=8)
    assert a == b and a["strategy_type"] == "GRD"
    assert np.prod([len(v) for v in a["grid"].values()]) <= 8
    for name, values in a["grid"].items():
        assert set(values) <= set(GRID_CHOICES[name]) and values == sorted(values)


def test_rendered_source_is_readable_and_mirrors_the_direction():
    long_ = render_grid(random_grid_genome(np.random.default_rng(2), "long", max_grid=16, timeframes=("1h",)),
                        "Strategy_GRD_00000001")
    short = render_grid(random_grid_genome(np.random.default_rng(2), "short", max_grid=16, timeframes=("1h",)),
                        "Strategy_GRD_00000002")
    assert "Buys `levels` limit levels below the SMA" in long_ and 'timeframes = ("1h",)' in long_
    assert "Sells `levels` limit levels above the SMA" in short and 'direction = "short"' in short
    compile(long_, "<grid>", "exec")


@pytest.mark.parametrize(("change", "match"), [
    (dict(version=2), "grid genome"), (dict(source="unger"), "grid genome"),
    (dict(grid={"k": [1.0]}), "exactly"), (dict(timeframes=[]), "timeframes"),
])
def test_bad_genomes_name_what_is_wrong(change, match):
    genome = random_grid_genome(np.random.default_rng(3), "long", max_grid=16, timeframes=("1h",))
    genome.update(change)
    with pytest.raises(ValueError, match=match):
        render_grid(genome, "Strategy_GRD_00000003")
