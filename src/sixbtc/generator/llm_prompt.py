"""The prompt of the ``llm`` source and the extraction of the code block from its answer.

The prompt carries the strategy contract (the docstring of :mod:`sixbtc.strategy.contract`,
read at run time so that it always states the contract the validator enforces), the allowed
imports, the indicator library (signatures and first docstring lines of
:mod:`sixbtc.strategy.indicators`), and asks for exactly one strategy of a given type,
direction and class name in one fenced Python block.
"""

from __future__ import annotations

import inspect
import re

from sixbtc.core.errors import SourceUnavailable
from sixbtc.strategy import contract, indicators

#: What each strategy type means to the model (SPEC §3.2).
TYPE_HINTS: dict[str, str] = {
    "MOM": "momentum: follow a strong recent move",
    "REV": "reversal / mean reversion: fade an extended move",
    "TRN": "trend following: trade in the direction of a longer trend",
    "BRK": "breakout: enter when price leaves a recent range",
    "VOL": "volatility: act on a volatility expansion or contraction",
}
_FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+-]*)[^\n]*\n(.*?)^[ \t]*```", re.DOTALL | re.MULTILINE)


def indicator_catalogue() -> str:
    """One line per public indicator: ``ind.name(signature) - first docstring line``."""
    lines = []
    for name in indicators.__all__:
        fn = getattr(indicators, name)
        doc = (inspect.getdoc(fn) or "").splitlines()
        lines.append(f"- ind.{name}{inspect.signature(fn)} - {doc[0] if doc else ''}")
    return "\n".join(lines)


def system_prompt() -> str:
    """The fixed instructions: the contract, the allowed imports and the indicators."""
    return (
        "You write trading strategies for SixBTC, a backtesting factory for crypto perpetual "
        "futures. Answer with exactly one fenced ```python code block and nothing else.\n\n"
        "THE STRATEGY CONTRACT\n" + inspect.cleandoc(contract.__doc__ or "") + "\n\n"
        "ALLOWED IMPORTS: " + ", ".join(sorted(contract.ALLOWED_IMPORTS)) + ". Nothing else: "
        "no file, network, process or environment access, no eval/exec, no dunder attributes. "
        "Signals must be causal: bar i may use only data up to and including bar i "
        "(never a negative shift, never a centred window, never the future).\n\n"
        "INDICATORS (module sixbtc.strategy.indicators imported as ind; all causal)\n"
        + indicator_catalogue()
    )


def user_prompt(class_name: str, strategy_type: str, direction: str, timeframes: tuple[str, ...],
                max_grid: int) -> str:
    """The request for one strategy.

    Parameters
    ----------
    class_name : str
        ``Strategy_{TYPE}_{shortid}`` the class must be called.
    strategy_type : str
        One of :data:`TYPE_HINTS`.
    direction : str
        ``"long"`` or ``"short"``.
    timeframes : tuple of str
        Timeframes the strategy must declare.
    max_grid : int
        Largest number of parameter sets (product of the ``param_space`` list lengths).
    """
    return (
        f"Write one {direction} strategy of type {strategy_type} "
        f"({TYPE_HINTS.get(strategy_type, strategy_type)}).\n"
        f"- class name: {class_name}\n"
        f'- strategy_type = "{strategy_type}", direction = "{direction}", '
        f"timeframes = {tuple(timeframes)!r}\n"
        f"- param_space: at most {max_grid} parameter sets in total (product of the list "
        "lengths), including sl_pct and tp_pct (fractions of the entry price, e.g. "
        "[0.01, 0.02] and [0.02, 0.04])\n"
        "- a short class docstring stating the rule in plain English\n"
        "- a rule with an economic reason, not a curve fit; enough signals to trade a few "
        "times a month"
    )


def extract_code(answer: str) -> str:
    """The Python source in the model's answer: the first fenced Python (or untagged) block
    holding a ``class Strategy_``, else the first such block.

    Raises
    ------
    SourceUnavailable
        ``llm:no_code_block`` when the answer has no fenced code block.
    """
    blocks = [b.strip() + "\n" for lang, b in _FENCE.findall(answer)
              if b.strip() and lang.lower() in ("", "python", "py", "python3")]
    if not blocks:
        excerpt = answer[:120].replace("\n", " ")
        raise SourceUnavailable("llm:no_code_block", f"the answer has no ```python block: {excerpt!r}")
    return next((b for b in blocks if "class Strategy_" in b), blocks[0])
