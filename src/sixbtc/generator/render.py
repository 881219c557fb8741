"""Render a genome (JSON-serialisable dict) to readable strategy source.

Genome layout (version 1)::

    {
      "version": 1,
      "source": "template" | "unger" | "pattern",
      "strategy_type": "TRN",              # StrategyType value
      "direction": "long" | "short",
      "timeframes": ["15m", "1h"],
      "blocks": [                          # template: one block; unger/pattern: entry, filter, exit
        {"role": "template", "name": "sma_cross", "grid": {"fast_n": [5, 10], ...}},
      ],
      "risk": {"sl_pct": [0.01, 0.015], "tp_pct": [0.02, 0.03]},
    }

The rendered class's ``param_space`` is the union of the block grids followed by ``risk``.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from sixbtc.domain.strategy import StrategySource, StrategyType
from sixbtc.domain.trading import Direction
from sixbtc.generator.blocks import BlockCode, declared_inputs, input_lines, ohlcv_lines
from sixbtc.generator.patterns import PATTERN_EXITS, PATTERN_FILTERS, PATTERNS
from sixbtc.generator.templates import TEMPLATES
from sixbtc.generator.unger import ENTRIES, EXITS, FILTERS

GENOME_VERSION = 1
_INDENT = " " * 8
_WIDTH = 96

_TYPE_WORDS = {
    StrategyType.MOM: "momentum",
    StrategyType.REV: "reversal",
    StrategyType.TRN: "trend",
    StrategyType.BRK: "breakout",
    StrategyType.VOL: "volatility",
    StrategyType.GRD: "grid",
}


def class_name_for(strategy_type: StrategyType | str, short_id: str) -> str:
    """``Strategy_{TYPE}_{shortid}``.

    Raises
    ------
    ValueError
        If the type is unknown or ``short_id`` is not 8 lowercase hex characters.
    """
    stype = StrategyType(strategy_type)
    if len(short_id) != 8 or any(ch not in "0123456789abcdef" for ch in short_id):
        raise ValueError(f"short_id must be 8 lowercase hex characters, got {short_id!r}")
    return f"Strategy_{stype.value}_{short_id}"


def _block(genome: dict[str, Any], role: str) -> dict[str, Any]:
    for block in genome.get("blocks", ()):
        if block.get("role") == role:
            return block
    raise ValueError(f"genome['blocks'] has no block with role {role!r}")


def _lookup(registry: dict[str, Any], name: object, what: str) -> Any:
    if name not in registry:
        raise ValueError(f"genome: unknown {what} block {name!r} (known: {sorted(registry)})")
    return registry[name]


#: Sources built of an entry, a filter and an exit block: their (entry, filter, exit) registries.
THREE_PART = {
    StrategySource.UNGER: (ENTRIES, FILTERS, EXITS),
    StrategySource.PATTERN: (PATTERNS, PATTERN_FILTERS, PATTERN_EXITS),
}


def _parts(genome: dict[str, Any], d: Direction) -> tuple[list[tuple[str, BlockCode]], str]:
    """The labelled blocks of the genome (in render order) and a title."""
    source = StrategySource(genome.get("source"))
    if source is StrategySource.TEMPLATE:
        spec = _lookup(TEMPLATES, _block(genome, "template").get("name"), "template")
        entry, exit_ = spec.build(d)
        return [("Entry", entry), ("Exit", exit_)], spec.title
    if source in THREE_PART:
        entries, filters, exits = THREE_PART[source]
        entry_spec = _lookup(entries, _block(genome, "entry").get("name"), "entry")
        filter_spec = _lookup(filters, _block(genome, "filter").get("name"), "filter")
        exit_spec = _lookup(exits, _block(genome, "exit").get("name"), "exit")
        parts = [("Entry", entry_spec.build(d, "")), ("Filter", filter_spec.build(d, "")),
                 ("Exit", exit_spec.build(d, entry_spec))]
        words = entry_spec.name.replace("_", " ")
        title = f"Unger-style {words} system" if source is StrategySource.UNGER else \
            f"{words} price-pattern system"
        return parts, title
    raise ValueError(f"genome['source'] {source.value!r} cannot be rendered by this generator")


def param_space_of(genome: dict[str, Any]) -> dict[str, list[Any]]:
    """The ``param_space`` a genome declares: block grids in order, then ``sl_pct``/``tp_pct``.

    Raises
    ------
    ValueError
        If two blocks declare the same parameter, or ``risk`` lacks ``sl_pct``/``tp_pct``.
    """
    space: dict[str, list[Any]] = {}
    for block in genome.get("blocks", ()):
        for name, values in block.get("grid", {}).items():
            if name in space:
                raise ValueError(f"genome: parameter {name!r} is declared by two blocks")
            space[name] = list(values)
    risk = genome.get("risk", {})
    for key in ("sl_pct", "tp_pct"):
        if not risk.get(key):
            raise ValueError(f"genome['risk'][{key!r}] must be a non-empty list of fractions")
        space[key] = list(risk[key])
    return space


def _literal(value: Any) -> str:
    """Python literal for a str, number, list or tuple, with double-quoted strings."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"cannot render {value!r} as a parameter value (numbers only)")
    return repr(value)


def _docstring(title: str, genome: dict[str, Any], parts: list[tuple[str, BlockCode]]) -> str:
    d = Direction(genome["direction"])
    stype = StrategyType(genome["strategy_type"])
    head = f"{d.value.capitalize()} {title} ({genome['source']}, {_TYPE_WORDS[stype]})."
    paras = [head]
    lineage = genome.get("lineage")
    if lineage:
        paras.append(f"Evolved by {lineage['operation']} of {', '.join(lineage['parents'])} "
                     f"(generation {lineage['generation']}).")
    for label, code in parts:
        prefix = "only while " if label == "Filter" and code.lines else ""
        paras.append(f"{label}: {prefix}{code.description}.")
    paras.append("Stop-loss `sl_pct` and take-profit `tp_pct` are fractions of the entry price, "
                 "checked intrabar by the engine. Signals act at the next bar's open.")
    wrapped = [textwrap.fill(par, _WIDTH - 4, subsequent_indent="    ") for par in paras]
    return '    """' + "\n\n    ".join(wrapped) + '\n    """'


#: Local name given to each labelled block's result before ``entries``/``exits`` are formed.
_RESULT_NAMES = {
    (StrategySource.TEMPLATE, "Entry"): "entries",
    (StrategySource.TEMPLATE, "Exit"): "exits",
    (StrategySource.UNGER, "Entry"): "pattern",
    (StrategySource.UNGER, "Filter"): "regime_ok",
    (StrategySource.UNGER, "Exit"): "exits",
    (StrategySource.PATTERN, "Entry"): "pattern",
    (StrategySource.PATTERN, "Filter"): "regime_ok",
    (StrategySource.PATTERN, "Exit"): "exits",
}


def _body(parts: list[tuple[str, BlockCode]], source: StrategySource) -> list[str]:
    """Statements of ``signals``: OHLCV locals, then each block and its named result.

    Unger and pattern systems AND the entry pattern with the filter before the exit block,
    so a time exit can refer to ``entries``.
    """
    uses = frozenset().union(*(code.uses for _, code in parts))
    lines = ohlcv_lines(uses | {"close"}) + input_lines(uses)
    for label, code in parts:
        if label == "Exit" and source in THREE_PART:
            lines.append("entries = pattern & regime_ok")
        lines.append(f"# {label}")
        lines.extend(code.lines)
        lines.append(f"{_RESULT_NAMES[(source, label)]} = {code.result}")
    lines.append("return np.asarray(entries, dtype=bool), np.asarray(exits, dtype=bool)")
    return [_INDENT + phys for line in lines for phys in line.split("\n")]


def render(genome: dict[str, Any], class_name: str) -> str:
    """Render ``genome`` as the source of one strategy class named ``class_name``.

    Parameters
    ----------
    genome : dict
        See the module docstring.
    class_name : str
        ``Strategy_{TYPE}_{shortid}`` (see :func:`class_name_for`).

    Returns
    -------
    str
        Python source importing only ``numpy`` and ``sixbtc.strategy.indicators``.

    Raises
    ------
    ValueError
        If the genome names an unknown source/block/type/direction, lacks a block or the
        risk grid, or ``class_name`` is not an identifier.
    """
    if not class_name.isidentifier():
        raise ValueError(f"class_name must be a Python identifier, got {class_name!r}")
    if genome.get("version") != GENOME_VERSION:
        got = genome.get("version")
        raise ValueError(f"genome['version'] must be {GENOME_VERSION}, got {got!r}")
    d = Direction(genome.get("direction"))
    stype = StrategyType(genome.get("strategy_type"))
    parts, title = _parts(genome, d)
    inputs = declared_inputs(frozenset().union(*(code.uses for _, code in parts)))
    space = param_space_of(genome)
    space_lines = [f"        {_literal(k)}: {_literal(values)}," for k, values in space.items()]
    timeframes = tuple(str(tf) for tf in genome.get("timeframes", ()))
    if not timeframes:
        raise ValueError("genome['timeframes'] must be a non-empty list of timeframes")
    source = [
        "import numpy as np",
        "",
        "from sixbtc.strategy import indicators as ind",
        "",
        "",
        f"class {class_name}:",
        _docstring(title, genome, parts),
        "",
        f"    strategy_type = {_literal(stype.value)}",
        f"    direction = {_literal(d.value)}",
        f"    timeframes = {_literal(timeframes)}",
        *([f"    inputs = {_literal(inputs)}"] if inputs else []),
        "    param_space = {",
        *space_lines,
        "    }",
        "",
        "    def signals(self, data, params):",
        *_body(parts, StrategySource(genome["source"])),
    ]
    return "\n".join(source) + "\n"
