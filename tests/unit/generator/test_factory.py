"""generate(): reproducibility, diversity, duplicates, grid bounds, contract-shaped sources."""

from __future__ import annotations

import ast
import json
import re
from math import prod

import numpy as np
import pytest

from sixbtc.domain.strategy import StrategySource
from sixbtc.generator import code_hash, generate, make_genome, random_genome, render
from sixbtc.generator.factory import SUPPORTED_SOURCES
from sixbtc.generator.templates import TEMPLATES
from sixbtc.generator.unger import ENTRIES, EXITS, FILTERS
from sixbtc.strategy.contract import StrategySpec

ALLOWED_IMPORTS = {"numpy", "math"}
ALLOWED_FROM = {("sixbtc.strategy", "indicators")}
NAME_RE = re.compile(r"^Strategy_(MOM|REV|TRN|BRK|VOL)_[0-9a-f]{8}$")


@pytest.fixture(scope="module")
def batch():
    return generate(200, np.random.default_rng(20240601))


def test_same_seed_same_candidates_other_seed_different():
    first = generate(30, np.random.default_rng(5))
    second = generate(30, np.random.default_rng(5))
    other = generate(30, np.random.default_rng(6))
    assert [c.code for c in first.candidates] == [c.code for c in second.candidates]
    assert [c.name for c in first.candidates] == [c.name for c in second.candidates]
    assert [c.genome for c in first.candidates] == [c.genome for c in second.candidates]
    assert {c.code_hash for c in first.candidates}.isdisjoint(c.code_hash for c in other.candidates)


def test_batch_is_diverse_and_free_of_duplicates(batch):
    cands = batch.candidates
    assert len(cands) == 200
    assert len({c.type for c in cands}) >= 4
    assert {c.source for c in cands} == {StrategySource(s) for s in SUPPORTED_SOURCES}
    assert StrategySource.PATTERN in {c.source for c in cands}
    assert {c.genome["direction"] for c in cands} == {"long", "short"}
    assert len({c.code_hash for c in cands}) == 200
    assert len({c.name for c in cands}) == 200
    for c in cands:
        assert c.code_hash == code_hash(c.code)
        assert c.genome["source"] == c.source.value and c.genome["strategy_type"] == c.type.value


def test_genome_is_json_and_rerenders_the_same_code(batch):
    for c in batch.candidates:
        genome = json.loads(json.dumps(c.genome))
        assert render(genome, c.name) == c.code


def _declared(code: str, class_name: str) -> dict:
    """Read the class attributes statically (no exec) from the source."""
    cls = next(n for n in ast.parse(code).body if isinstance(n, ast.ClassDef))
    assert cls.name == class_name
    out = {}
    for node in cls.body:
        if isinstance(node, ast.Assign):
            out[node.targets[0].id] = ast.literal_eval(node.value)
    return out


def test_sources_follow_the_contract_statically(batch):
    for c in batch.candidates:
        tree = ast.parse(c.code)
        assert NAME_RE.match(c.name) and c.name.split("_")[1] == c.type.value
        classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
        assert [k.name for k in classes] == [c.name]
        assert ast.get_docstring(classes[0]) and "Entry:" in ast.get_docstring(classes[0])
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert {a.name for a in node.names} <= ALLOWED_IMPORTS, c.code
            elif isinstance(node, ast.ImportFrom):
                assert {(node.module, a.name) for a in node.names} <= ALLOWED_FROM, c.code
            elif isinstance(node, ast.Attribute):
                assert not node.attr.startswith("__"), c.code
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "shift":
                arg = node.args[1]
                assert isinstance(arg, ast.Constant) and arg.value >= 0, c.code
        assert max(len(line) for line in c.code.splitlines()) <= 100
        declared = _declared(c.code, c.name)
        spec = StrategySpec.from_declared(c.name, declared)
        assert spec.strategy_type == c.type and spec.direction.value == c.genome["direction"]
        assert {"sl_pct", "tp_pct"} <= set(spec.param_space)
        assert all(len(v) >= 1 for v in spec.param_space.values())


@pytest.mark.parametrize("max_grid", [1, 4, 8, 64])
def test_grids_never_exceed_max_grid(max_grid):
    result = generate(60, np.random.default_rng(max_grid), max_grid=max_grid)
    sizes = [prod(len(v) for v in _declared(c.code, c.name)["param_space"].values())
             for c in result.candidates]
    assert len(sizes) == 60 and max(sizes) <= max_grid
    if max_grid == 64:
        assert max(sizes) > 8  # real grids, not trivially shrunk


def test_existing_hashes_are_skipped_and_counted():
    first = generate(10, np.random.default_rng(11))
    known = {c.code_hash for c in first.candidates}
    again = generate(10, np.random.default_rng(11), existing_hashes=known)
    assert again.duplicates >= 1  # the first draw repeats the first run's first candidate
    assert len(again.candidates) == 10
    assert known.isdisjoint(c.code_hash for c in again.candidates)


def test_duplicates_inside_one_call_are_counted_in_a_small_space():
    result = generate(150, np.random.default_rng(3), sources=("template",), max_grid=1)
    hashes = [c.code_hash for c in result.candidates]
    assert len(hashes) == len(set(hashes))
    assert result.duplicates > 0


def test_sources_and_timeframes_arguments_are_honoured():
    result = generate(20, np.random.default_rng(1), sources=("unger",), timeframes=("4h",))
    assert {c.source for c in result.candidates} == {StrategySource.UNGER}
    assert all(_declared(c.code, c.name)["timeframes"] == ("4h",) for c in result.candidates)
    assert generate(0, np.random.default_rng(1)).candidates == []


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"n": -1}, "n must be an int >= 0"),
        ({"rng": 42}, "rng must be a numpy.random.Generator"),
        ({"sources": ("llm",)}, "sources must be a non-empty subset"),
        ({"sources": ()}, "sources must be a non-empty subset"),
        ({"max_grid": 0}, "max_grid must be an int >= 1"),
        ({"timeframes": ("2h",)}, "unknown timeframe '2h'"),
        ({"timeframes": ()}, "timeframes must be a non-empty"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, needle):
    args = {"n": 3, "rng": np.random.default_rng(0)} | kwargs
    n, rng = args.pop("n"), args.pop("rng")
    with pytest.raises(ValueError, match=needle):
        generate(n, rng, **args)


def test_make_genome_covers_every_block_and_rejects_unknown_ones():
    rng = np.random.default_rng(0)
    for name in TEMPLATES:
        genome = make_genome("template", (name,), "short", rng)
        assert genome["blocks"][0]["name"] == name and genome["direction"] == "short"
    genome = make_genome("unger", (next(iter(ENTRIES)), next(iter(FILTERS)), "time"), "long", rng)
    assert [b["role"] for b in genome["blocks"]] == ["entry", "filter", "exit"]
    assert "time" in EXITS
    with pytest.raises(ValueError, match="unknown template block 'nope'"):
        make_genome("template", ("nope",), "long", rng)
    with pytest.raises(ValueError, match="block_names for 'unger' must name"):
        make_genome("unger", ("breakout",), "long", rng)
    with pytest.raises(ValueError, match="'sideways' is not a valid Direction"):
        make_genome("template", ("sma_cross",), "sideways", rng)
    with pytest.raises(ValueError, match="source must be one of"):
        random_genome("llm", rng)


def test_render_rejects_broken_genomes():
    genome = random_genome("unger", np.random.default_rng(2))
    with pytest.raises(ValueError, match="class_name must be a Python identifier"):
        render(genome, "Strategy-1")
    with pytest.raises(ValueError, match="unknown entry block 'zigzag'"):
        render(genome | {"blocks": [{"role": "entry", "name": "zigzag"}, *genome["blocks"][1:]]},
               "Strategy_BRK_00000000")
    with pytest.raises(ValueError, match=r"genome\['risk'\]\['sl_pct'\]"):
        render(genome | {"risk": {"tp_pct": [0.02]}}, "Strategy_BRK_00000000")
    with pytest.raises(ValueError, match="no block with role 'filter'"):
        render(genome | {"blocks": genome["blocks"][:1]}, "Strategy_BRK_00000000")


def test_generator_package_respects_stage_layering():
    from pathlib import Path

    import sixbtc.generator as pkg

    allowed = ("sixbtc.generator", "sixbtc.domain", "sixbtc.core", "sixbtc.strategy")
    for path in Path(pkg.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else [node.module] if isinstance(node, ast.ImportFrom) else [])
            for module in modules:
                if module and module.startswith("sixbtc"):
                    assert module.startswith(allowed), f"{path.name} imports {module}"
