"""Evolution parents: genomes of pool members and of near-misses (rejected at the gate)."""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert, select

from sixbtc.adapters.storage.tables import NearMissRow, StrategyRow
from sixbtc.core.clock import Clock, LiveClock
from sixbtc.domain.strategy import StrategyStatus
from sixbtc.generator.evolution import Parent

S = StrategyRow.__table__
N = NearMissRow.__table__
#: Near-misses kept (the best by DSR); older, worse ones are deleted.
MAX_NEAR_MISSES = 500
#: Pool members read as parents at most (best score first).
MAX_POOL_PARENTS = 500


class ParentRepository:
    """Implements :class:`sixbtc.generator.ports.ParentStore` on the SQL store.

    Parameters
    ----------
    engine : Engine
        Migrated engine (:func:`sixbtc.adapters.storage.db.migrate`).
    clock : Clock
        Time source of ``created_at``.
    max_near_misses : int
        Near-misses kept (the best by DSR), ``>= 1``.
    """

    def __init__(self, engine: Engine, clock: Clock | None = None, *,
                 max_near_misses: int = MAX_NEAR_MISSES) -> None:
        if max_near_misses < 1:
            raise ValueError(f"max_near_misses must be >= 1, got {max_near_misses}")
        self.engine = engine
        self.clock = clock or LiveClock()
        self.max_near_misses = max_near_misses

    def keep_near_miss(self, strategy_id: int, reason: str, dsr: float) -> bool:
        """Copy a strategy's genome into ``near_misses`` before it is deleted.

        Keeps the ``max_near_misses`` best by ``dsr`` (a probability, fraction). Returns
        whether it is kept: False when the strategy is gone, has no genome, is already kept,
        ``dsr`` is not a finite number or is below the ``max_near_misses`` best.
        """
        if not (dsr == dsr and abs(dsr) != float("inf")):
            return False
        with self.engine.begin() as conn:
            row = conn.execute(select(S.c.name, S.c.source, S.c.genome).where(S.c.id == strategy_id)).first()
            if row is None or not row.genome:
                return False
            if conn.execute(select(N.c.id).where(N.c.strategy_name == row.name)).first() is not None:
                return False
            conn.execute(insert(N).values(strategy_name=row.name, source=row.source, genome=row.genome,
                                          reason=reason[:64], dsr=float(dsr), created_at=self.clock.now()))
            keep = select(N.c.id).order_by(N.c.dsr.desc(), N.c.id.desc()).limit(self.max_near_misses)
            conn.execute(delete(N).where(N.c.id.not_in(keep)))
            return conn.execute(select(N.c.id).where(N.c.strategy_name == row.name)).first() is not None

    def evolution_parents(self) -> list[Parent]:
        """ACTIVE and LIVE strategies with a genome (best score first), then the near-misses
        (best DSR first)."""
        statuses = (str(StrategyStatus.ACTIVE), str(StrategyStatus.LIVE))
        pool = (select(S.c.name, S.c.genome).where(S.c.status.in_(statuses), S.c.genome.is_not(None))
                .order_by(S.c.score.desc(), S.c.id).limit(MAX_POOL_PARENTS))
        near = select(N.c.strategy_name, N.c.genome).order_by(N.c.dsr.desc(), N.c.id)
        with self.engine.connect() as conn:
            members = [Parent(r.name, r.genome, "pool") for r in conn.execute(pool) if r.genome]
            misses = [Parent(r.strategy_name, r.genome, "near_miss") for r in conn.execute(near)]
        return members + misses
