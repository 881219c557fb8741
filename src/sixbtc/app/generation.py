"""Generator role: a batch of new strategies within the daily limit and the back-pressure."""

from __future__ import annotations

from datetime import UTC, datetime, time

import numpy as np

from sixbtc.app.container import Container
from sixbtc.generator.evolution import generate_mixed


def generate_batch(c: Container, n: int, rng: np.random.Generator) -> tuple[int, int]:
    """Generate up to ``n`` strategies within the daily limit and back-pressure.

    Room = ``min(n, generator.daily_limit - created since UTC midnight,
    generator.max_generated_queue - GENERATED waiting)``; ``generator.evolution_share`` of them
    are children of the stored parents (pool members and near-misses), when there are any.

    Returns
    -------
    (int, int)
        Strategies created, and candidates dropped as duplicates (of stored code or of each other).
    """
    cfg = c.settings.generator
    midnight = datetime.combine(c.clock.now().date(), time(0), tzinfo=UTC)
    room = min(n, cfg.daily_limit - c.strategies.count_created_since(midnight),
               cfg.max_generated_queue - c.strategies.counts_by_status()["GENERATED"])
    if room <= 0:
        return 0, 0
    parents = c.parents.evolution_parents() if cfg.evolution_share > 0 else []
    result = generate_mixed(room, rng, parents=parents, evolution_share=cfg.evolution_share,
                            existing_hashes=c.strategies.existing_hashes(), sources=tuple(cfg.sources),
                            max_grid=cfg.max_grid, timeframes=tuple(c.settings.backtest.timeframes))
    created = sum(1 for cand in result.candidates if c.strategies.add(cand) is not None)
    return created, result.duplicates + len(result.candidates) - created
