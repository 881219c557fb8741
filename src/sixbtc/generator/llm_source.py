"""The ``llm`` source (SPEC §3.2): strategies written by a language model.

Each request asks for one strategy of a drawn type and direction under a drawn class name
(:mod:`sixbtc.generator.llm_prompt`). The answer's code block becomes a
:class:`~sixbtc.domain.strategy.StrategyCandidate` with ``source="llm"`` and is stored as
GENERATED like every other candidate, so it goes through exactly the same validator (AST
gate, sandboxed execution, look-ahead tests) and backtest; nothing here executes it. Its
genome is the prompt's metadata (``{"source": "llm", "model", "strategy_type",
"direction", "class_name"}``): it has no blocks, so it cannot be re-rendered or evolved.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

import numpy as np

from sixbtc.core.errors import SourceUnavailable, StrategyRejected
from sixbtc.domain.strategy import StrategyCandidate, StrategySource, StrategyType
from sixbtc.domain.trading import Direction
from sixbtc.generator.dedupe import code_hash
from sixbtc.generator.llm_prompt import TYPE_HINTS, extract_code, system_prompt, user_prompt
from sixbtc.generator.ports import LLMClient
from sixbtc.generator.render import class_name_for

#: Answer failures that end the batch (the service is down or refuses us); others skip one answer.
FATAL_PREFIXES = ("llm:timeout", "llm:unreachable", "llm:auth", "llm:rate_limited", "llm:http_5")


@dataclass(frozen=True)
class LLMBatch:
    """Output of :func:`llm_generate`.

    Attributes
    ----------
    candidates : list of StrategyCandidate
        Usable answers (not yet validated).
    duplicates : int
        Answers whose code hash had been seen.
    errors : list of str
        One ``"reason: detail"`` per failed request (timeout, HTTP error, no code block,
        unparsable code...).
    """

    candidates: list[StrategyCandidate] = field(default_factory=list)
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)


def _named(code: str, short_id: str, asked: StrategyType) -> tuple[str, StrategyType, str]:
    """Rename the answer's single ``Strategy_*`` class to ``Strategy_{TYPE}_{short_id}``.

    The type is the class's declared ``strategy_type`` when that is a known type, else the
    one asked for. Returns ``(code, type, name)``; code whose class cannot be found is
    returned unchanged under the asked name (the validator rejects it with its reason).
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code, asked, class_name_for(asked, short_id)
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    if len(classes) != 1:
        return code, asked, class_name_for(asked, short_id)
    declared = next((s.value.value for s in classes[0].body if isinstance(s, ast.Assign)
                     and any(isinstance(t, ast.Name) and t.id == "strategy_type" for t in s.targets)
                     and isinstance(s.value, ast.Constant)), None)
    kind = StrategyType(declared) if declared in {t.value for t in StrategyType} else asked
    name = class_name_for(kind, short_id)
    return re.sub(rf"\b{re.escape(classes[0].name)}\b", name, code), kind, name


def llm_generate(client: LLMClient, n: int, rng: np.random.Generator, *,
                 existing_hashes: set[str] | frozenset[str] = frozenset(),
                 timeframes: tuple[str, ...] = ("15m", "30m", "1h", "4h"),
                 max_grid: int = 64) -> LLMBatch:
    """Ask ``client`` for ``n`` strategies, one request each.

    Types are drawn uniformly from MOM REV TRN BRK VOL (grids, GRD, have their own source),
    directions uniformly; the short id from ``rng``. A timeout, an unreachable server, an
    authentication or rate-limit refusal or a 5xx ends the batch (recorded in ``errors``);
    an answer without a code block, with code that does not parse, or a duplicate skips that
    answer.

    Parameters
    ----------
    client : LLMClient
    n : int
        Requests to send, ``>= 0``.
    rng : numpy.random.Generator
    existing_hashes : set of str
        Code hashes already stored (not modified).
    timeframes : tuple of str
        Timeframes the strategy must declare.
    max_grid : int
        Largest parameter grid asked for.

    Returns
    -------
    LLMBatch
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be an int >= 0, got {n!r}")
    seen, candidates, errors, duplicates = set(existing_hashes), [], [], 0
    system = system_prompt()
    for _ in range(n):
        kind = StrategyType(sorted(TYPE_HINTS)[int(rng.integers(0, len(TYPE_HINTS)))])
        direction = sorted(d.value for d in Direction)[int(rng.integers(0, 2))]
        short_id = f"{int(rng.integers(0, 2**32)):08x}"
        asked = class_name_for(kind, short_id)
        try:
            answer = client.complete(system, user_prompt(asked, kind.value, direction, timeframes, max_grid))
            code, kind_got, name = _named(extract_code(answer), short_id, kind)
            digest = code_hash(code)
        except (SourceUnavailable, StrategyRejected) as exc:
            errors.append(str(exc))
            if isinstance(exc, SourceUnavailable) and exc.reason.startswith(FATAL_PREFIXES):
                break
            continue
        if digest in seen:
            duplicates += 1
            continue
        seen.add(digest)
        genome = {"source": StrategySource.LLM.value, "model": client.model, "strategy_type": kind.value,
                  "direction": direction, "class_name": asked}
        candidates.append(StrategyCandidate(name=name, type=kind_got, source=StrategySource.LLM,
                                                code=code, code_hash=digest, genome=genome))
    return LLMBatch(candidates, duplicates, errors)
