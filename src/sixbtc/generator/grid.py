"""The ``grid`` source (SPEC §3.2): grid strategies (type ``GRD``) around a moving average.

A grid genome places ``levels`` limit levels at ``SMA(close, center_n) -/+ j * k * ATR``
(``j = 1..levels``; below the center for a long, above for a short), takes profit on the
return to the SMA and holds one global stop ``sl_pct`` beyond the deepest level, as the grid
runners of the Scalp Radar notes (``GridStrategyRunner``: levels at SMA - k * ATR, TP on the
return to the SMA). The ATR here is the *simple* mean of the true range over ``atr_n`` bars
(finite memory: the warm-up a strategy needs is exactly its longest window, and the
validator's warm-up test settles). The engine semantics are in
:mod:`sixbtc.backtester.engine_grid`, the contract in :mod:`sixbtc.strategy.contract`.

Genome layout (version 1)::

    {
      "version": 1, "source": "grid", "strategy_type": "GRD",
      "direction": "long" | "short", "timeframes": ["1h", "4h"],
      "grid": {"center_n": [20, 50], "atr_n": [14], "k": [0.5, 1.0],
               "levels": [2, 4], "sl_pct": [0.02, 0.05]},
    }
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np

from sixbtc.domain.strategy import StrategySource, StrategyType
from sixbtc.domain.trading import Direction
from sixbtc.generator.blocks import choose_values, fit_grid
from sixbtc.generator.render import _literal

GENOME_VERSION = 1
#: Candidate values of each grid parameter (ascending). Windows stay within the default
#: ``backtest.warmup_bars`` (250); ``sl_pct`` is a fraction beyond the deepest level.
GRID_CHOICES: dict[str, tuple[Any, ...]] = {
    "center_n": (20, 30, 50, 100, 200),
    "atr_n": (14, 20, 50),
    "k": (0.5, 0.75, 1.0, 1.5, 2.0),
    "levels": (2, 3, 4, 5),
    "sl_pct": (0.01, 0.02, 0.03, 0.05),
}


def random_grid_genome(rng: np.random.Generator, direction: str, *, max_grid: int,
                       timeframes: tuple[str, ...]) -> dict[str, Any]:
    """Draw a grid genome: 2-3 values of each :data:`GRID_CHOICES` list, fitted to ``max_grid``.

    Parameters
    ----------
    rng : numpy.random.Generator
    direction : str
        ``"long"`` or ``"short"``.
    max_grid : int
        Maximum parameter sets (cartesian product), ``>= 1``.
    timeframes : tuple of str

    Returns
    -------
    dict
        JSON-serialisable genome (module docstring).

    Raises
    ------
    ValueError
        If ``direction`` is not a direction or ``max_grid < 1``.
    """
    grid = fit_grid({name: choose_values(values, rng) for name, values in GRID_CHOICES.items()}, max_grid, rng)
    return {"version": GENOME_VERSION, "source": StrategySource.GRID.value, "strategy_type": StrategyType.GRD.value,
            "direction": Direction(direction).value, "timeframes": list(timeframes), "grid": grid}


def _check(genome: dict[str, Any]) -> dict[str, list[Any]]:
    if genome.get("version") != GENOME_VERSION or genome.get("source") != StrategySource.GRID.value:
        raise ValueError(f"not a version-{GENOME_VERSION} grid genome: version {genome.get('version')!r}, "
                         f"source {genome.get('source')!r}")
    grid = genome.get("grid")
    if not isinstance(grid, dict) or set(grid) != set(GRID_CHOICES):
        raise ValueError(f"genome['grid'] must give exactly {sorted(GRID_CHOICES)}, got {grid!r}")
    for name, values in grid.items():
        if not isinstance(values, list) or not values or any(
                isinstance(v, bool) or not isinstance(v, int | float) for v in values):
            raise ValueError(f"genome['grid'][{name!r}] must be a non-empty list of numbers, got {values!r}")
    if not genome.get("timeframes"):
        raise ValueError("genome['timeframes'] must be a non-empty list of timeframes")
    return grid


def _docstring(d: Direction) -> str:
    side, beyond = ("below", "below") if d is Direction.LONG else ("above", "above")
    verb = "Buys" if d is Direction.LONG else "Sells"
    paras = [f"{d.value.capitalize()} grid around the SMA (grid, grid).",
             f"{verb} `levels` limit levels {side} the SMA(`center_n`) of the close, spaced `k` times the mean "
             "true range over `atr_n` bars, each 1/`levels` of the allocation. Every filled level closes when the "
             f"price returns to the SMA (take-profit) or at the global stop `sl_pct` {beyond} the deepest level. "
             "Levels, stop and target come from the previous bar's close."]
    wrapped = [textwrap.fill(par, 92, subsequent_indent="    ") for par in paras]
    return '    """' + "\n\n    ".join(wrapped) + '\n    """'


def render_grid(genome: dict[str, Any], class_name: str) -> str:
    """Render a grid genome as the source of one ``GRD`` strategy class.

    Parameters
    ----------
    genome : dict
        See the module docstring.
    class_name : str
        ``Strategy_GRD_{shortid}``.

    Returns
    -------
    str
        Python source importing only ``numpy`` and ``sixbtc.strategy.indicators``; its
        ``signals`` returns ``{"center": ..., "step": ...}``.

    Raises
    ------
    ValueError
        If the genome is not a grid genome (names what is wrong) or ``class_name`` is not
        an identifier.
    """
    if not class_name.isidentifier():
        raise ValueError(f"class_name must be a Python identifier, got {class_name!r}")
    grid = _check(genome)
    d = Direction(genome.get("direction"))
    space = [f'        "{name}": {list(grid[name])!r},' for name in GRID_CHOICES]
    lines = [
        "import numpy as np",
        "",
        "from sixbtc.strategy import indicators as ind",
        "",
        "",
        f"class {class_name}:",
        _docstring(d),
        "",
        '    strategy_type = "GRD"',
        f'    direction = "{d.value}"',
        f"    timeframes = {_literal(tuple(genome['timeframes']))}",
        "    param_space = {",
        *space,
        "    }",
        "",
        "    def signals(self, data, params):",
        '        close = data["close"]',
        '        high = data["high"]',
        '        low = data["low"]',
        '        center = ind.sma(close, params["center_n"])',
        '        step = params["k"] * ind.sma(ind.true_range(high, low, close), params["atr_n"])',
        '        return {"center": np.asarray(center, dtype=float), "step": np.asarray(step, dtype=float)}',
    ]
    return "\n".join(lines) + "\n"
