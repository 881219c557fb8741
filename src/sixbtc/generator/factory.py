"""The public generator: random genomes -> rendered, de-duplicated strategy candidates."""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sixbtc.domain.strategy import StrategyCandidate, StrategySource, StrategyType
from sixbtc.domain.timeframe import Timeframe
from sixbtc.domain.trading import Direction
from sixbtc.generator.blocks import choose_grid, choose_risk, fit_grid
from sixbtc.generator.dedupe import code_hash
from sixbtc.generator.grid import random_grid_genome, render_grid
from sixbtc.generator.render import GENOME_VERSION, class_name_for, render
from sixbtc.generator.templates import TEMPLATES
from sixbtc.generator.unger import ENTRIES, EXITS, FILTERS

#: Sources this package can generate.
SUPPORTED_SOURCES: tuple[str, ...] = (StrategySource.TEMPLATE.value, StrategySource.UNGER.value,
                                      StrategySource.GRID.value)
#: Sources :func:`generate` draws from when none are given (``generator.sources`` default).
DEFAULT_SOURCES: tuple[str, ...] = (StrategySource.TEMPLATE.value, StrategySource.UNGER.value)
DEFAULT_TIMEFRAMES: tuple[str, ...] = ("15m", "30m", "1h", "4h")
#: Attempts allowed per requested candidate before giving up (duplicates use attempts).
ATTEMPTS_PER_CANDIDATE = 50


@dataclass(frozen=True)
class GenerationResult:
    """Output of :func:`generate`.

    Attributes
    ----------
    candidates : list of StrategyCandidate
        New strategies, each with a distinct ``code_hash`` not in ``existing_hashes``.
    duplicates : int
        Rendered strategies skipped because their hash had already been seen (in
        ``existing_hashes`` or earlier in the same call).
    """

    candidates: list[StrategyCandidate] = field(default_factory=list)
    duplicates: int = 0


def _pick(options: Iterable[str], rng: np.random.Generator) -> str:
    ordered = sorted(options)
    return ordered[int(rng.integers(0, len(ordered)))]


def _fitted_blocks(
    blocks: list[tuple[str, str, dict[str, tuple[Any, ...]]]], rng: np.random.Generator,
    max_grid: int,
) -> tuple[list[dict[str, Any]], dict[str, list[float]]]:
    """Choose each block's grid and the risk grid, then shrink all to ``max_grid`` sets."""
    grids = [choose_grid(choices, rng) for _, _, choices in blocks]
    risk = choose_risk(rng)
    merged: dict[str, list[Any]] = {}
    for grid in grids:
        merged.update(grid)
    merged.update(risk)
    fitted = fit_grid(merged, max_grid, rng)
    out = [{"role": role, "name": name, "grid": {k: fitted[k] for k in grid}}
           for (role, name, _), grid in zip(blocks, grids, strict=True)]
    return out, {k: fitted[k] for k in risk}


def random_genome(
    source: str, rng: np.random.Generator, *, max_grid: int = 64,
    timeframes: tuple[str, ...] = DEFAULT_TIMEFRAMES,
) -> dict[str, Any]:
    """Draw a random genome of ``source``: its blocks and direction uniformly, then grids.

    Parameters
    ----------
    source : str
        ``"template"``, ``"unger"`` or ``"grid"`` (:mod:`sixbtc.generator.grid`).
    rng : numpy.random.Generator
    max_grid : int
        Maximum number of parameter sets (cartesian product, ``sl_pct``/``tp_pct`` included).
    timeframes : tuple of str
        Timeframes the strategy declares.

    Returns
    -------
    dict
        JSON-serialisable genome (layout in :mod:`sixbtc.generator.render`).

    Raises
    ------
    ValueError
        If ``source`` is not supported or ``max_grid < 1``.
    """
    direction = _pick([d.value for d in Direction], rng)
    if source == StrategySource.TEMPLATE:
        names: tuple[str, ...] = (_pick(TEMPLATES, rng),)
    elif source == StrategySource.UNGER:
        names = (_pick(ENTRIES, rng), _pick(FILTERS, rng), _pick(EXITS, rng))
    elif source == StrategySource.GRID:
        return random_grid_genome(rng, direction, max_grid=max_grid, timeframes=timeframes)
    else:
        raise ValueError(f"source must be one of {SUPPORTED_SOURCES}, got {source!r}")
    return make_genome(source, names, direction, rng, max_grid=max_grid, timeframes=timeframes)


def make_genome(
    source: str, block_names: tuple[str, ...], direction: str, rng: np.random.Generator, *,
    max_grid: int = 64, timeframes: tuple[str, ...] = DEFAULT_TIMEFRAMES,
) -> dict[str, Any]:
    """Build a genome from chosen blocks; only the parameter grids are drawn from ``rng``.

    Parameters
    ----------
    source : str
        ``"template"`` (``block_names = (template,)``) or ``"unger"``
        (``block_names = (entry, filter, exit)``).
    block_names : tuple of str
        Registry names, see :data:`~sixbtc.generator.templates.TEMPLATES` and
        :data:`~sixbtc.generator.unger.ENTRIES` / ``FILTERS`` / ``EXITS``.
    direction : str
        ``"long"`` or ``"short"``.
    rng : numpy.random.Generator
    max_grid : int
        Maximum number of parameter sets.
    timeframes : tuple of str

    Returns
    -------
    dict
        JSON-serialisable genome.

    Raises
    ------
    ValueError
        If the source, a block name, the number of names or the direction is invalid.
    """
    direction = Direction(direction).value
    registries = {StrategySource.TEMPLATE.value: (("template", TEMPLATES),),
                  StrategySource.UNGER.value: (("entry", ENTRIES), ("filter", FILTERS),
                                               ("exit", EXITS))}
    if source not in registries:
        raise ValueError(f"source must be one of {SUPPORTED_SOURCES}, got {source!r}")
    roles = registries[source]
    if len(block_names) != len(roles):
        raise ValueError(f"block_names for {source!r} must name {[r for r, _ in roles]}, "
                         f"got {block_names!r}")
    parts = []
    for (role, registry), name in zip(roles, block_names, strict=True):
        if name not in registry:
            raise ValueError(f"unknown {role} block {name!r} (known: {sorted(registry)})")
        parts.append((role, name, registry[name].choices))
    first = registries[source][0][1][block_names[0]]
    blocks, risk = _fitted_blocks(parts, rng, max_grid)
    return {"version": GENOME_VERSION, "source": str(source),
            "strategy_type": StrategyType(first.strategy_type).value, "direction": direction,
            "timeframes": list(timeframes), "blocks": blocks, "risk": risk}


def _check_args(n: object, rng: object, sources: tuple[str, ...], max_grid: object,
                timeframes: tuple[str, ...]) -> None:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"n must be an int >= 0, got {n!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if not sources or any(s not in SUPPORTED_SOURCES for s in sources):
        raise ValueError(f"sources must be a non-empty subset of {SUPPORTED_SOURCES}, "
                         f"got {sources!r}")
    if isinstance(max_grid, bool) or not isinstance(max_grid, numbers.Integral) or max_grid < 1:
        raise ValueError(f"max_grid must be an int >= 1, got {max_grid!r}")
    if not timeframes:
        raise ValueError("timeframes must be a non-empty tuple of timeframe strings")
    for tf in timeframes:
        Timeframe.parse(tf)


def generate(
    n: int,
    rng: np.random.Generator,
    *,
    existing_hashes: set[str] | frozenset[str] = frozenset(),
    sources: tuple[str, ...] = DEFAULT_SOURCES,
    max_grid: int = 64,
    timeframes: tuple[str, ...] = DEFAULT_TIMEFRAMES,
) -> GenerationResult:
    """Generate ``n`` new strategy candidates as Python source (SPEC §3.2).

    Each candidate draws its source uniformly from ``sources``, a random genome from that
    source, and a short id (8 hex chars) from ``rng``; so one seed always yields the same
    candidates. A candidate whose normalised code hash was already seen (in
    ``existing_hashes`` or earlier in this call) is skipped and counted in ``duplicates``.

    Parameters
    ----------
    n : int
        Number of candidates wanted, ``>= 0``.
    rng : numpy.random.Generator
        The only source of randomness.
    existing_hashes : set of str
        ``code_hash`` values of strategies already stored; not modified.
    sources : tuple of str
        Subset of :data:`SUPPORTED_SOURCES` (``"template"``, ``"unger"``, ``"grid"``); default
        :data:`DEFAULT_SOURCES`.
    max_grid : int
        Maximum parameter sets per strategy (product of the ``param_space`` list lengths).
    timeframes : tuple of str
        Timeframes every candidate declares (``Timeframe`` values such as ``"1h"``).

    Returns
    -------
    GenerationResult
        ``n`` candidates, or fewer if ``50 * n + 100`` attempts produced only duplicates
        (the search space is exhausted for these settings).

    Raises
    ------
    ValueError
        If an argument is out of range (the message names it).
    """
    sources = tuple(sources)
    timeframes = tuple(timeframes)
    _check_args(n, rng, sources, max_grid, timeframes)
    seen = set(existing_hashes)
    names: set[str] = set()
    candidates: list[StrategyCandidate] = []
    attempts = 0
    duplicates = 0
    while len(candidates) < n and attempts < ATTEMPTS_PER_CANDIDATE * n + 100:
        attempts += 1
        source = sources[int(rng.integers(0, len(sources)))]
        genome = random_genome(source, rng, max_grid=max_grid, timeframes=timeframes)
        name = class_name_for(genome["strategy_type"], f"{int(rng.integers(0, 2**32)):08x}")
        while name in names:
            name = class_name_for(genome["strategy_type"], f"{int(rng.integers(0, 2**32)):08x}")
        code = (render_grid if genome["source"] == StrategySource.GRID else render)(genome, name)
        digest = code_hash(code)
        if digest in seen:
            duplicates += 1
            continue
        seen.add(digest)
        names.add(name)
        candidates.append(StrategyCandidate(
            name=name, type=StrategyType(genome["strategy_type"]), source=StrategySource(source),
            code=code, code_hash=digest, genome=genome))
    return GenerationResult(candidates=candidates, duplicates=duplicates)
