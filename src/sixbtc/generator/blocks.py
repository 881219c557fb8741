"""Building blocks of generated strategies and their parameter grids.

A *block* is a piece of strategy source: a few statements computing indicator arrays and
one boolean array (its ``result``), plus a plain-English clause for the class docstring.
Blocks are built for one trading direction; the short version mirrors the long one
(highs <-> lows, above <-> below, ``level`` <-> ``100 - level`` for 0..100 oscillators).

Generated code reads parameters as ``params["name"]`` and OHLCV arrays through the local
names in :data:`OHLCV_LOCALS`; a block lists the OHLCV keys it reads in ``uses``. Blocks
may also read the extra strategy inputs (:mod:`sixbtc.strategy.inputs`: ``open_time``,
``funding``, ``btc_close``, ``htf_1d_close`` …), bound to locals of the same name; the
rendered class then declares them (:func:`declared_inputs`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from math import prod
from typing import Any

import numpy as np

from sixbtc.domain.strategy import StrategyType
from sixbtc.domain.trading import Direction
from sixbtc.strategy.inputs import is_extra_key

#: Local variable name used in generated code for each OHLCV key (``open`` is a builtin).
OHLCV_LOCALS: dict[str, str] = {
    "open": "open_",
    "high": "high",
    "low": "low",
    "close": "close",
    "volume": "volume",
}

#: Candidate stop-loss / take-profit distances (fractions of the entry price). Each strategy
#: takes two adjacent values of each list, so the take-profit grid is roughly twice the stop.
SL_CHOICES: tuple[float, ...] = (0.005, 0.01, 0.015, 0.02, 0.03, 0.05)
TP_CHOICES: tuple[float, ...] = (0.01, 0.02, 0.03, 0.04, 0.06, 0.1)


@dataclass(frozen=True)
class BlockCode:
    """Rendered source of one block for one direction.

    Attributes
    ----------
    description : str
        Plain-English clause, e.g. ``"the close breaks above the highest high of the
        previous `breakout_n` bars"``.
    lines : tuple of str
        Python statements (no indentation) computing intermediate arrays.
    result : str
        Expression (usually a local name) of the block's bool array of shape ``(n_bars,)``.
    uses : frozenset of str
        ``data`` keys the statements read: OHLCV (``"open" "high" "low" "close" "volume"``)
        and extra inputs (``"funding"``, ``"btc_close"``, ``"htf_1d_close"`` …).
    """

    description: str
    lines: tuple[str, ...]
    result: str
    uses: frozenset[str] = field(default_factory=frozenset)


#: Builds a block's code for a direction; the str is a suffix for local variable names.
Builder = Callable[[Direction, str], BlockCode]


@dataclass(frozen=True)
class BlockSpec:
    """A block kind: what it computes and which parameter values it may use.

    Attributes
    ----------
    name : str
        Registry key stored in the genome.
    strategy_type : StrategyType or None
        Type a strategy built around this block gets (entries/templates); None for filters
        and exits.
    choices : dict of str to tuple
        Parameter name -> candidate values, ascending; a strategy's grid takes 2-3 of them.
    build : Builder
        Renders the block; template builders render the entry, see
        :class:`~sixbtc.generator.templates.TemplateSpec` for their exits.
    """

    name: str
    strategy_type: StrategyType | None
    choices: dict[str, tuple[Any, ...]]
    build: Builder


def pick(direction: Direction, long: str, short: str) -> str:
    """Return ``long`` for a long strategy and ``short`` for a short one."""
    return long if direction is Direction.LONG else short


def p(name: str) -> str:
    """Source text reading parameter ``name``: ``params["name"]``."""
    return f'params["{name}"]'


def choose_values(choices: Sequence[Any], rng: np.random.Generator) -> list[Any]:
    """Pick 2 or 3 distinct values of ``choices`` (ascending order kept).

    Parameters
    ----------
    choices : sequence
        Candidate values, ascending; fewer than 2 candidates are all returned.
    rng : numpy.random.Generator

    Returns
    -------
    list
        Values in the order they appear in ``choices``.
    """
    if len(choices) <= 2:
        return list(choices)
    k = int(rng.integers(2, 4))
    idx = sorted(rng.choice(len(choices), size=min(k, len(choices)), replace=False).tolist())
    return [choices[i] for i in idx]


def choose_grid(
    choices: Mapping[str, Sequence[Any]], rng: np.random.Generator
) -> dict[str, list[Any]]:
    """Pick 2-3 values for every parameter of ``choices`` (see :func:`choose_values`)."""
    return {name: choose_values(values, rng) for name, values in choices.items()}


def choose_risk(rng: np.random.Generator) -> dict[str, list[float]]:
    """Pick the ``sl_pct`` and ``tp_pct`` grids: two adjacent values of each choice list.

    Returns
    -------
    dict
        ``{"sl_pct": [a, b], "tp_pct": [c, d]}``, fractions of the entry price, with
        ``sl`` values at positions ``i, i+1`` of :data:`SL_CHOICES` and ``tp`` values at
        positions ``j, j+1`` of :data:`TP_CHOICES` with ``|i - j| <= 1``, so the
        take-profit is about 1-3 times the stop.
    """
    i = int(rng.integers(0, len(SL_CHOICES) - 1))
    j = min(max(i + int(rng.integers(-1, 2)), 0), len(TP_CHOICES) - 2)
    return {"sl_pct": list(SL_CHOICES[i : i + 2]), "tp_pct": list(TP_CHOICES[j : j + 2])}


def grid_size(grid: Mapping[str, Sequence[Any]]) -> int:
    """Number of parameter sets in the cartesian product of ``grid``."""
    return prod(len(values) for values in grid.values())


def fit_grid(
    grid: dict[str, list[Any]], max_grid: int, rng: np.random.Generator
) -> dict[str, list[Any]]:
    """Drop values until the cartesian product of ``grid`` has at most ``max_grid`` sets.

    Repeatedly takes one of the longest lists (ties broken by ``rng``) and removes one of
    its values at random, never emptying a list.

    Parameters
    ----------
    grid : dict of str to list
        Parameter name -> values; not modified.
    max_grid : int
        Upper bound, ``>= 1``.
    rng : numpy.random.Generator

    Returns
    -------
    dict of str to list
        A new grid with the same keys and each list a subsequence of the original.

    Raises
    ------
    ValueError
        If ``max_grid < 1``.
    """
    if max_grid < 1:
        raise ValueError(f"max_grid must be >= 1, got {max_grid}")
    fitted = {name: list(values) for name, values in grid.items()}
    while grid_size(fitted) > max_grid:
        longest = max(len(v) for v in fitted.values())
        names = sorted(name for name, v in fitted.items() if len(v) == longest)
        victim = names[int(rng.integers(0, len(names)))]
        fitted[victim].pop(int(rng.integers(0, longest)))
    return fitted


def ohlcv_lines(uses: frozenset[str]) -> list[str]:
    """Statements binding the OHLCV arrays in ``uses`` to their local names, in OHLCV order."""
    return [f'{OHLCV_LOCALS[key]} = data["{key}"]' for key in OHLCV_LOCALS if key in uses]


def input_lines(uses: frozenset[str]) -> list[str]:
    """Statements binding the extra input arrays in ``uses`` to locals of the same name."""
    return [f'{key} = data["{key}"]' for key in sorted(uses) if is_extra_key(key)]


def declared_inputs(uses: frozenset[str]) -> tuple[str, ...]:
    """The ``inputs`` declaration reading the extra keys in ``uses`` (``()`` when none):
    ``btc_*`` -> ``"btc"``, ``htf_<tf>_*`` -> ``"htf:<tf>"``, others by name."""
    out: set[str] = set()
    for key in uses:
        if not is_extra_key(key):
            continue
        if key.startswith("btc_"):
            out.add("btc")
        elif key.startswith("htf_"):
            out.add("htf:" + key.split("_")[1])
        else:
            out.add(key)
    return tuple(sorted(out))
