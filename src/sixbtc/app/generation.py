"""Generator role: a batch of new strategies within the daily limit and the back-pressure."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any

import numpy as np

from sixbtc.app.container import Container
from sixbtc.app.regimes import coin_regimes
from sixbtc.generator.evolution import generate_mixed
from sixbtc.generator.llm_source import llm_generate

log = logging.getLogger(__name__)
LLM = "llm"


def _midnight(c: Container) -> datetime:
    return datetime.combine(c.clock.now().date(), time(0), tzinfo=UTC)


def _store(c: Container, result: Any) -> tuple[int, int]:
    """Add ``result.candidates`` within the limits, atomically (parallel generators never
    exceed them together): (created, dropped = duplicates + refused + beyond the room)."""
    cfg = c.settings.generator
    created, skipped = c.strategies.add_within_limits(list(result.candidates), _midnight(c), cfg.daily_limit,
                                                      cfg.max_generated_queue)
    return created, result.duplicates + skipped


def generation_room(c: Container) -> tuple[int, int]:
    """(left of today's ``generator.daily_limit``, room in the GENERATED queue before
    ``generator.max_generated_queue``); both counted in the database, so a restart changes
    neither. Negative values mean over the limit."""
    cfg = c.settings.generator
    return (cfg.daily_limit - c.strategies.count_created_since(_midnight(c)),
            cfg.max_generated_queue - c.strategies.counts_by_status()["GENERATED"])


def generate_batch(c: Container, n: int, rng: np.random.Generator,
                   on_error: Callable[[str], None] | None = None) -> tuple[int, int]:
    """Generate up to ``n`` strategies within the daily limit and back-pressure.

    Room = ``min(n, generator.daily_limit - created since UTC midnight,
    generator.max_generated_queue - GENERATED waiting)``. With ``llm`` in
    ``generator.sources`` the LLM is asked first for ``min(room, llm.per_batch)``
    strategies; the other sources fill the rest of the room (also what a failing LLM left),
    ``generator.evolution_share`` of it children of the stored parents (pool members and
    near-misses) when there are any. The unger source draws entries fitting the coins'
    newest regimes (:func:`coin_regimes`). Each LLM failure is logged and passed to
    ``on_error`` (it never stops the other sources). The room is counted again when the
    candidates are stored, in the same transaction as the inserts
    (:meth:`~sixbtc.adapters.storage.strategy_repo.StrategyRepository.add_within_limits`), so
    generators running in parallel (:mod:`sixbtc.app.generator_pool`, several
    ``sixbtc worker generator``) stay within both limits together.

    Returns
    -------
    (int, int)
        Strategies created, and candidates dropped as duplicates (of stored code or of each
        other) or because a parallel generator used the room first.
    """
    cfg = c.settings.generator
    room = min(n, *generation_room(c))
    if room <= 0:
        return 0, 0
    timeframes = tuple(c.settings.backtest.timeframes)
    created = dropped = 0
    if LLM in cfg.sources and c.settings.llm.per_batch:
        batch = llm_generate(c.llm, min(room, c.settings.llm.per_batch), rng,
                             existing_hashes=c.strategies.existing_hashes(), timeframes=timeframes,
                             max_grid=cfg.max_grid)
        for message in batch.errors:
            log.warning("llm source: %s", message)
            if on_error:
                on_error(message)
        created, dropped = _store(c, batch)
    others = tuple(s for s in cfg.sources if s != LLM)
    if not others or room - created <= 0:
        return created, dropped
    parents = c.parents.evolution_parents() if cfg.evolution_share > 0 else []
    result = generate_mixed(room - created, rng, parents=parents, evolution_share=cfg.evolution_share,
                            existing_hashes=c.strategies.existing_hashes(), sources=others,
                            max_grid=cfg.max_grid, timeframes=timeframes, regimes=coin_regimes(c))
    made, lost = _store(c, result)
    return created + made, dropped + lost
