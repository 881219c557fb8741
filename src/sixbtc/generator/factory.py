"""The public generator: random genomes -> rendered, de-duplicated strategy candidates."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sixbtc.domain.strategy import StrategyCandidate, StrategySource, StrategyType
from sixbtc.domain.timeframe import Timeframe
from sixbtc.domain.trading import Direction
from sixbtc.generator.blocks import choose_grid, choose_risk, fit_grid
from sixbtc.generator.dedupe import code_hash
from sixbtc.generator.grid import random_grid_genome, render_grid
from sixbtc.generator.patterns import PATTERN_EXITS, PATTERN_FILTERS, PATTERNS
from sixbtc.generator.regime_fit import check_regimes, draw_regime, entries_for
from sixbtc.generator.render import GENOME_VERSION, class_name_for, render
from sixbtc.generator.templates import TEMPLATES
from sixbtc.generator.unger import ENTRIES, EXITS, FILTERS, filters_for

#: Sources this package can generate.
SUPPORTED_SOURCES: tuple[str, ...] = (StrategySource.TEMPLATE.value, StrategySource.UNGER.value,
                                      StrategySource.PATTERN.value, StrategySource.GRID.value)
#: Sources :func:`generate` draws from when none are given (``generator.sources`` default).
DEFAULT_SOURCES: tuple[str, ...] = (StrategySource.TEMPLATE.value, StrategySource.UNGER.value,
                                    StrategySource.PATTERN.value)
#: Block roles of each source and the registry each role's block names come from (GRD
#: genomes are drawn by :mod:`sixbtc.generator.grid`).
REGISTRIES: dict[str, tuple[tuple[str, dict[str, Any]], ...]] = {
    StrategySource.TEMPLATE.value: (("template", TEMPLATES),),
    StrategySource.UNGER.value: (("entry", ENTRIES), ("filter", FILTERS), ("exit", EXITS)),
    StrategySource.PATTERN.value: (("entry", PATTERNS), ("filter", PATTERN_FILTERS),
                                   ("exit", PATTERN_EXITS)),
}
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


def _options(source: str, role: str, registry: dict[str, Any], regime: str | None,
             timeframes: tuple[str, ...]) -> Iterable[str]:
    """Block names a random genome may draw for ``role``: unger entries fit the coin's regime,
    unger filters fit the timeframes (the daily ones need timeframes dividing 1d)."""
    if source == StrategySource.UNGER and role == "entry":
        return entries_for(regime)
    if source == StrategySource.UNGER and role == "filter":
        return filters_for(timeframes)
    return registry


def random_genome(
    source: str, rng: np.random.Generator, *, max_grid: int = 64,
    timeframes: tuple[str, ...] = DEFAULT_TIMEFRAMES, regime: str | None = None,
) -> dict[str, Any]:
    """Draw a random genome of ``source``: its blocks and direction uniformly, then grids.

    Parameters
    ----------
    source : str
        ``"template"``, ``"unger"`` ``"pattern"`` or ``"grid"`` (:mod:`sixbtc.generator.grid`).
    rng : numpy.random.Generator
    max_grid : int
        Maximum number of parameter sets (cartesian product, ``sl_pct``/``tp_pct`` included).
    timeframes : tuple of str
        Timeframes the strategy declares.
    regime : str, optional
        ``"TREND"``, ``"REVERSAL"`` or ``"MIXED"``: an unger entry is drawn among those that
        fit it (:func:`~sixbtc.generator.regime_fit.entries_for`); ignored by templates.

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
    if source == StrategySource.GRID:
        return random_grid_genome(rng, direction, max_grid=max_grid, timeframes=timeframes)
    if source not in REGISTRIES:
        raise ValueError(f"source must be one of {SUPPORTED_SOURCES}, got {source!r}")
    names = tuple(_pick(_options(source, role, registry, regime, timeframes), rng) for role, registry in REGISTRIES[source])
    return make_genome(source, names, direction, rng, max_grid=max_grid, timeframes=timeframes)


def make_genome(
    source: str, block_names: tuple[str, ...], direction: str, rng: np.random.Generator, *,
    max_grid: int = 64, timeframes: tuple[str, ...] = DEFAULT_TIMEFRAMES,
) -> dict[str, Any]:
    """Build a genome from chosen blocks; only the parameter grids are drawn from ``rng``.

    Parameters
    ----------
    source : str
        ``"template"`` (``block_names = (template,)``), ``"unger"`` or ``"pattern"``
        (``block_names = (entry, filter, exit)``).
    block_names : tuple of str
        Registry names, see :data:`~sixbtc.generator.templates.TEMPLATES` and
        :data:`~sixbtc.generator.unger.ENTRIES` / ``FILTERS`` / ``EXITS`` and
        :data:`~sixbtc.generator.patterns.PATTERNS` / ``PATTERN_FILTERS`` / ``PATTERN_EXITS``.
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
    if source not in REGISTRIES:
        raise ValueError(f"source must be one of {SUPPORTED_SOURCES}, got {source!r}")
    roles = REGISTRIES[source]
    if len(block_names) != len(roles):
        raise ValueError(f"block_names for {source!r} must name {[r for r, _ in roles]}, "
                         f"got {block_names!r}")
    parts = []
    for (role, registry), name in zip(roles, block_names, strict=True):
        if name not in registry:
            raise ValueError(f"unknown {role} block {name!r} (known: {sorted(registry)})")
        parts.append((role, name, registry[name].choices))
    first = roles[0][1][block_names[0]]
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
    regimes: Mapping[str, str] | None = None,
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
        Subset of :data:`SUPPORTED_SOURCES` (``"template"``, ``"unger"``, ``"pattern"``, ``"grid"``); default
        :data:`DEFAULT_SOURCES`.
    max_grid : int
        Maximum parameter sets per strategy (product of the ``param_space`` list lengths).
    timeframes : tuple of str
        Timeframes every candidate declares (``Timeframe`` values such as ``"1h"``).
    regimes : mapping of str to str, optional
        Coin -> ``"TREND"`` / ``"REVERSAL"`` / ``"MIXED"`` (:mod:`sixbtc.regime`). When
        given and not empty, each unger candidate draws a coin uniformly and an entry fitting
        its regime (:mod:`sixbtc.generator.regime_fit`), recorded as ``genome["regime"]``;
        None or empty: every entry is equally likely (the draws of a seed are unchanged).

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
    check_regimes(regimes or {})

    def draw() -> dict[str, Any]:
        source = sources[int(rng.integers(0, len(sources)))]
        regime = draw_regime(regimes, rng) if regimes and source == StrategySource.UNGER else None
        genome = random_genome(source, rng, max_grid=max_grid, timeframes=timeframes, regime=regime)
        if regime is not None:
            genome["regime"] = regime
        return genome

    return collect(n, draw, rng, seen=set(existing_hashes), names=set(),
                   max_attempts=ATTEMPTS_PER_CANDIDATE * n + 100)


def collect(n: int, draw: Callable[[], dict[str, Any] | None], rng: np.random.Generator, *,
            seen: set[str], names: set[str], max_attempts: int) -> GenerationResult:
    """Render genomes from ``draw()`` until ``n`` new candidates or ``max_attempts`` draws.

    A genome whose code hash is in ``seen`` is counted as a duplicate; ``draw()`` returning
    None uses an attempt and yields nothing. ``seen`` and ``names`` are updated in place.
    """
    candidates: list[StrategyCandidate] = []
    duplicates = 0
    for _ in range(max_attempts):
        if len(candidates) >= n:
            break
        genome = draw()
        if genome is None:
            continue
        cand = candidate_of(genome, rng, names)
        if cand.code_hash in seen:
            duplicates += 1
            continue
        seen.add(cand.code_hash)
        names.add(cand.name)
        candidates.append(cand)
    return GenerationResult(candidates=candidates, duplicates=duplicates)


def candidate_of(genome: dict[str, Any], rng: np.random.Generator,
                 taken: set[str] | frozenset[str] = frozenset()) -> StrategyCandidate:
    """Name (a short id drawn from ``rng``, not in ``taken``), render and hash a genome.

    Raises
    ------
    ValueError
        If the genome cannot be rendered (see :func:`~sixbtc.generator.render.render`).
    """
    name = class_name_for(genome["strategy_type"], f"{int(rng.integers(0, 2**32)):08x}")
    while name in taken:
        name = class_name_for(genome["strategy_type"], f"{int(rng.integers(0, 2**32)):08x}")
    code = (render_grid if genome["source"] == StrategySource.GRID else render)(genome, name)
    return StrategyCandidate(name=name, type=StrategyType(genome["strategy_type"]),
                             source=StrategySource(genome["source"]), code=code,
                             code_hash=code_hash(code), genome=genome)
