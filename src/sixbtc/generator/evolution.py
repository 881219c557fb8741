"""Evolution of stored genomes: mutation and crossover (ARCHITECTURE "Optimisation").

Parents are strategies whose genome the generator can render again: pool members (ACTIVE,
LIVE) and near-misses (strategies rejected late, at the multiple-testing gate). A child is a
new genome, rendered and hashed like any generated strategy, so it is a strategy of its own:
it is validated, backtested and gated from scratch, and every parameter set it tries is a
trial in the ledger like any other (its parents' results give it no credit).

Operations (one per child, drawn uniformly among those the parent allows):

- ``mutate:grid:<role>`` re-draws the value grid of one block from its candidate values;
- ``mutate:risk`` re-draws the stop-loss / take-profit grid;
- ``mutate:filter`` swaps the regime filter for another one (entry x filter x exit sources);
- ``mutate:exit`` swaps the exit for another kind (same sources);
- ``crossover`` takes the entry (and direction, timeframes) of one parent and the filter,
  exit and risk grid of another parent of the same source.

The child's genome records ``lineage``: ``{"operation", "parents": [names], "origins":
["pool" | "near_miss"], "generation": 1 + the parents' highest}``; rendering ignores it
except for one docstring line, so lineage never changes a code hash.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sixbtc.domain.strategy import StrategyType
from sixbtc.generator.blocks import choose_grid, choose_risk, fit_grid
from sixbtc.generator.factory import REGISTRIES, GenerationResult, _options, collect, generate
from sixbtc.generator.render import GENOME_VERSION, param_space_of

#: Attempts allowed per requested child (duplicates of stored code use attempts).
ATTEMPTS_PER_CHILD = 20
ORIGINS = ("pool", "near_miss")
#: Rejection reasons that make a strategy a near-miss: it passed the whole backtest protocol
#: (plausibility, walk-forward, shuffle test) and failed only the multiple-testing gate.
NEAR_MISS_REASONS = frozenset({"score:dsr", "score:pbo"})


def is_near_miss(reason: str | None) -> bool:
    """True for a rejection reason of :data:`NEAR_MISS_REASONS`."""
    return reason in NEAR_MISS_REASONS


@dataclass(frozen=True)
class Parent:
    """A stored strategy whose genome may be evolved.

    Attributes
    ----------
    name : str
        Strategy name (recorded in the child's lineage).
    genome : dict
        The stored genome (JSON layout of :mod:`sixbtc.generator.render`).
    origin : str
        ``"pool"`` (ACTIVE or LIVE) or ``"near_miss"`` (rejected at the gate).
    """

    name: str
    genome: dict[str, Any]
    origin: str = "pool"


def evolvable(parent: Parent) -> bool:
    """True when the genome is of this generator's version and every block is known."""
    g = parent.genome or {}
    roles = REGISTRIES.get(g.get("source"))  # type: ignore[arg-type]
    if roles is None or g.get("version") != GENOME_VERSION or parent.origin not in ORIGINS:
        return False
    blocks = g.get("blocks") or []
    if [b.get("role") for b in blocks] != [role for role, _ in roles]:
        return False
    return all(b.get("name") in registry for b, (_, registry) in zip(blocks, roles, strict=True))


def _choices(source: str, role: str, name: str) -> dict[str, tuple[Any, ...]]:
    registry = dict(REGISTRIES[source])[role]
    return registry[name].choices


def _refit(genome: dict[str, Any], rng: np.random.Generator, max_grid: int) -> dict[str, Any]:
    """Shrink the genome's grids (blocks and risk together) to at most ``max_grid`` sets."""
    blocks, risk = genome["blocks"], genome["risk"]
    merged = {k: list(v) for b in blocks for k, v in b["grid"].items()} | \
        {k: list(v) for k, v in risk.items()}
    fitted = fit_grid(merged, max_grid, rng)
    genome["blocks"] = [dict(b, grid={k: fitted[k] for k in b["grid"]}) for b in blocks]
    genome["risk"] = {k: fitted[k] for k in risk}
    return genome


def _operations(genome: dict[str, Any]) -> list[str]:
    ops = [f"mutate:grid:{b['role']}" for b in genome["blocks"]
           if any(len(v) > 1 for v in _choices(genome["source"], b["role"], b["name"]).values())]
    ops.append("mutate:risk")
    ops += [f"mutate:{role}" for role in ("filter", "exit") if _others(genome, role)]
    return ops


def _allowed(genome: dict[str, Any], role: str) -> list[str]:
    """Block names a random genome on ``genome``'s timeframes may draw for ``role``
    (:func:`~sixbtc.generator.factory._options`); none when the source has no such role."""
    registry = dict(REGISTRIES[genome["source"]]).get(role)
    if registry is None:
        return []
    return list(_options(genome["source"], role, registry, None, tuple(genome["timeframes"])))


def _others(genome: dict[str, Any], role: str) -> list[str]:
    """Block names ``role`` may swap to: the :func:`_allowed` ones but the current one."""
    block = next((b for b in genome["blocks"] if b["role"] == role), None)
    if block is None:
        return []
    return sorted(name for name in _allowed(genome, role) if name != block["name"])


def _swap(genome: dict[str, Any], role: str, rng: np.random.Generator) -> None:
    registry = dict(REGISTRIES[genome["source"]])[role]
    block = next(b for b in genome["blocks"] if b["role"] == role)
    others = _others(genome, role)
    block["name"] = others[int(rng.integers(0, len(others)))]
    block["grid"] = choose_grid(registry[block["name"]].choices, rng)


def mutate(parent: Parent, rng: np.random.Generator, *, max_grid: int = 64) -> dict[str, Any]:
    """One mutation of ``parent``'s genome (operation drawn from ``rng``; see module doc).

    Returns
    -------
    dict
        The child genome, grids within ``max_grid`` sets, ``lineage`` set.

    Raises
    ------
    ValueError
        If the parent is not :func:`evolvable`.
    """
    if not evolvable(parent):
        raise ValueError(f"parent {parent.name!r}: genome cannot be evolved by this generator")
    child = copy.deepcopy(parent.genome)
    ops = _operations(child)
    op = ops[int(rng.integers(0, len(ops)))]
    target = op.split(":")[-1]
    if op == "mutate:risk":
        child["risk"] = choose_risk(rng)
    elif op.startswith("mutate:grid:"):
        block = next(b for b in child["blocks"] if b["role"] == target)
        block["grid"] = choose_grid(_choices(child["source"], target, block["name"]), rng)
    else:
        _swap(child, target, rng)
    return _finish(child, op, [parent], rng, max_grid)


def crossover(first: Parent, second: Parent, rng: np.random.Generator, *,
              max_grid: int = 64) -> dict[str, Any]:
    """The entry, direction and timeframes of ``first`` with the other blocks and the risk
    grid of ``second``.

    Raises
    ------
    ValueError
        If a parent is not :func:`evolvable`, the sources differ, the source has a
        single block (templates: nothing to exchange), or a block of ``second`` is not
        allowed on ``first``'s timeframes (a daily filter on a 1d strategy).
    """
    for parent in (first, second):
        if not evolvable(parent):
            raise ValueError(f"parent {parent.name!r}: genome cannot be evolved by this generator")
    a, b = first.genome, second.genome
    if a["source"] != b["source"] or len(a["blocks"]) < 2:
        raise ValueError(f"crossover needs two parents of one multi-block source, got "
                         f"{a['source']!r} and {b['source']!r}")
    child = copy.deepcopy(a)
    child["blocks"] = [copy.deepcopy(a["blocks"][0]), *copy.deepcopy(b["blocks"][1:])]
    child["risk"] = copy.deepcopy(b["risk"])
    for block in child["blocks"][1:]:
        if block["name"] not in _allowed(child, block["role"]):
            raise ValueError(f"crossover: {block['role']} {block['name']!r} of {second.name!r} is not "
                             f"allowed on the timeframes {child['timeframes']} of {first.name!r}")
    return _finish(child, "crossover", [first, second], rng, max_grid)


def _finish(child: dict[str, Any], op: str, parents: list[Parent], rng: np.random.Generator,
            max_grid: int) -> dict[str, Any]:
    entry = dict(REGISTRIES[child["source"]])[child["blocks"][0]["role"]][child["blocks"][0]["name"]]
    child["strategy_type"] = StrategyType(entry.strategy_type).value
    generation = max(int((p.genome.get("lineage") or {}).get("generation", 0)) for p in parents)
    child["lineage"] = {"operation": op, "parents": [p.name for p in parents],
                        "origins": [p.origin for p in parents], "generation": generation + 1}
    child = _refit(child, rng, max_grid)
    param_space_of(child)  # raises if two blocks now declare one parameter
    return child


def child_genome(parents: Sequence[Parent], rng: np.random.Generator, *,
                 max_grid: int = 64) -> dict[str, Any]:
    """One child of ``parents``: a crossover (half the time, when a parent of the same
    multi-block source exists) or a mutation of a parent drawn uniformly.

    Raises
    ------
    ValueError
        If no parent is :func:`evolvable`.
    """
    usable = sorted((p for p in parents if evolvable(p)), key=lambda p: p.name)
    if not usable:
        raise ValueError("no parent has a genome this generator can evolve")
    first = usable[int(rng.integers(0, len(usable)))]
    mates = [p for p in usable if p.name != first.name
             and p.genome["source"] == first.genome["source"] and len(p.genome["blocks"]) > 1]
    if mates and rng.random() < 0.5:
        return crossover(first, mates[int(rng.integers(0, len(mates)))], rng, max_grid=max_grid)
    return mutate(first, rng, max_grid=max_grid)


def evolve(n: int, rng: np.random.Generator, parents: Sequence[Parent], *,
           existing_hashes: set[str] | frozenset[str] = frozenset(),
           max_grid: int = 64) -> GenerationResult:
    """Up to ``n`` children of ``parents`` as candidates, none with a hash already seen.

    Returns
    -------
    GenerationResult
        Fewer than ``n`` candidates when ``20 n`` attempts give only duplicates, none when no
        parent is :func:`evolvable`; ``duplicates`` counts the skipped children.
    """
    if not any(evolvable(p) for p in parents):
        return GenerationResult()

    def draw() -> dict[str, Any] | None:
        try:
            return child_genome(parents, rng, max_grid=max_grid)
        except ValueError:  # a crossover's blocks clash (one parameter, timeframes): no child
            return None

    return collect(n, draw, rng, seen=set(existing_hashes), names={p.name for p in parents},
                   max_attempts=ATTEMPTS_PER_CHILD * n)


def generate_mixed(n: int, rng: np.random.Generator, *, parents: Sequence[Parent] = (),
                   evolution_share: float = 0.0,
                   existing_hashes: set[str] | frozenset[str] = frozenset(),
                   **generate_args: Any) -> GenerationResult:
    """``n`` candidates: a share ``evolution_share`` children of ``parents``, the rest new.

    The number of children is ``floor(share * n)`` plus one with probability equal to the
    remainder (so small batches get children at the configured rate on average); with no
    evolvable parent it is 0. Children that cannot be found (all duplicates) are replaced by
    new strategies.

    Parameters
    ----------
    n : int
        Candidates wanted, ``>= 0``.
    rng : numpy.random.Generator
        The only source of randomness (same seed and parents -> same candidates).
    parents : sequence of Parent
    evolution_share : float
        Fraction of the batch, ``0..1``.
    existing_hashes : set of str
        Code hashes already stored.
    **generate_args
        ``sources``, ``max_grid``, ``timeframes`` of :func:`~sixbtc.generator.factory.generate`.

    Raises
    ------
    ValueError
        If ``evolution_share`` is outside ``0..1`` or an argument of ``generate`` is bad.
    """
    if not 0.0 <= evolution_share <= 1.0:
        raise ValueError(f"evolution_share must be a fraction in 0..1, got {evolution_share!r}")
    k = 0
    if n > 0 and evolution_share > 0 and any(evolvable(p) for p in parents):
        whole, rest = divmod(evolution_share * n, 1.0)
        k = min(n, int(whole) + int(rng.random() < rest))
    children = evolve(k, rng, parents, existing_hashes=existing_hashes,
                      max_grid=generate_args.get("max_grid", 64)) if k else GenerationResult()
    seen = set(existing_hashes) | {c.code_hash for c in children.candidates}
    fresh = generate(n - len(children.candidates), rng, existing_hashes=seen, **generate_args)
    return GenerationResult(candidates=children.candidates + fresh.candidates,
                            duplicates=children.duplicates + fresh.duplicates)
