"""The ACTIVE pool in the database: the SPEC §3.5 rules applied atomically.

Every decision runs in one transaction that first serialises pool writers (SQLite:
``BEGIN IMMEDIATE`` already holds the write lock; PostgreSQL: ``pg_advisory_xact_lock``), so
concurrent entries can never push the pool over ``max_size`` or evict the wrong member.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, func, select, text

from sixbtc.adapters.storage.db import is_sqlite
from sixbtc.adapters.storage.mapping import to_strategy
from sixbtc.adapters.storage.strategy_repo import StrategyRepository
from sixbtc.adapters.storage.tables import StrategyRow
from sixbtc.domain.strategy import StrategyRecord, StrategyStatus
from sixbtc.pool.rules import PoolAction, PoolDecision, decide_entry, decide_retest
from sixbtc.pool.similarity import Series, decide_correlated

T = StrategyRow.__table__
_POOL_LOCK_KEY = 6_142_000_001
ACTIVE = StrategyStatus.ACTIVE


def member_series(metrics: dict[str, Any] | None) -> Series | None:
    """A member's OOS daily series from its ``metrics`` (None when absent or malformed)."""
    m = metrics or {}
    values, last = m.get("daily_returns"), m.get("daily_last_day")
    if not isinstance(values, list) or len(values) < 2 or not isinstance(last, int):
        return None
    try:
        return last, np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class PoolStats:
    """Size and score range of the ACTIVE pool (scores None when empty)."""

    count: int
    min_score: float | None
    max_score: float | None
    avg_score: float | None


class PoolRepository:
    """Atomic pool operations on top of :class:`StrategyRepository`."""

    def __init__(self, strategies: StrategyRepository) -> None:
        self.strategies = strategies
        self.engine: Engine = strategies.engine

    def _lock(self, conn: Connection) -> None:
        if not is_sqlite(self.engine):
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _POOL_LOCK_KEY})

    def _worst(self, conn: Connection, exclude: int | None = None) -> Any:
        q = select(T.c.id, T.c.score).where(T.c.status == str(ACTIVE))
        if exclude is not None:
            q = q.where(T.c.id != exclude)
        return conn.execute(q.order_by(T.c.score.asc(), T.c.id.desc()).limit(1)).first()

    def _count(self, conn: Connection) -> int:
        return conn.execute(select(func.count()).where(T.c.status == str(ACTIVE))).scalar_one()

    def try_enter(self, strategy_id: int, token: int, score: float, *, max_size: int, min_score: float,
                  correlation: tuple[Series | None, float, int] | None = None, **fields: Any) -> PoolDecision:
        """Apply the entry rules to a claimed, freshly backtested strategy, atomically.

        ``fields`` (params, timeframe, metrics, ``last_backtested_at`` ...) are stored with the
        verdict. A rejected strategy becomes RETIRED (rules 1 and 4); rule 3 retires the worst.
        ``correlation`` = (the newcomer's OOS daily series, ``max_correlation``,
        ``min_overlap_days``) applies the pool's correlation cap first when the score reaches
        ``min_score`` (:mod:`sixbtc.pool.similarity`; members' series are read from their
        ``metrics`` ``daily_returns``/``daily_last_day``): refused as ``pool:correlated``, or
        the worse correlated members retired as ``pool:correlated_evicted``.

        Raises
        ------
        StaleClaim
            If ``token`` is stale; nothing is changed.
        """
        repo = self.strategies
        with self.engine.begin() as conn:
            self._lock(conn)
            if correlation is not None and score >= min_score:
                refused = self._correlation_cap(conn, strategy_id, token, score, correlation, fields)
                if refused is not None:
                    return refused
            worst = self._worst(conn)
            decision = decide_entry(score, self._count(conn), worst.score if worst else None,
                                    max_size=max_size, min_score=min_score)
            if decision.action is PoolAction.REJECT:
                repo.transition_in(conn, strategy_id, token, StrategyStatus.RETIRED, phase="pool",
                                   reason=f"pool:rule{decision.rule}", detail=decision.reason, score=score, **fields)
                return decision
            if decision.action is PoolAction.ENTER_EVICT_WORST:
                repo.transition_in(conn, worst.id, None, StrategyStatus.RETIRED, phase="pool", reason="pool:evicted",
                                   detail=f"evicted by {strategy_id} ({decision.reason})",
                                   claim_token=T.c.claim_token + 1)
                decision = PoolDecision(decision.action, decision.rule, decision.reason, evicted_id=worst.id)
            repo.transition_in(conn, strategy_id, token, ACTIVE, phase="pool", reason=f"pool:rule{decision.rule}",
                               detail=decision.reason, score=score, **fields)
            return decision

    def _correlation_cap(self, conn: Connection, strategy_id: int, token: int, score: float,
                         correlation: tuple[Series | None, float, int], fields: dict[str, Any]) -> PoolDecision | None:
        series, max_corr, min_overlap = correlation
        rows = conn.execute(select(T.c.id, T.c.name, T.c.score, T.c.metrics).where(
            T.c.status == str(ACTIVE), T.c.id != strategy_id)).all()
        members = [(r.id, r.name, float(r.score or 0.0), member_series(r.metrics)) for r in rows]
        cd = decide_correlated(score, series, members, max_correlation=max_corr, min_overlap=min_overlap)
        if cd.blocker is not None:
            self.strategies.transition_in(conn, strategy_id, token, StrategyStatus.RETIRED, phase="pool",
                                          reason="pool:correlated", detail=cd.describe(), score=score, **fields)
            return PoolDecision(PoolAction.REJECT, 0, cd.describe())
        for mid in cd.evict:
            self.strategies.transition_in(conn, mid, None, StrategyStatus.RETIRED, phase="pool",
                                          reason="pool:correlated_evicted",
                                          detail=f"replaced by the better-scored, correlated {strategy_id} "
                                                 f"(score {score:.1f})", claim_token=T.c.claim_token + 1)
        return None

    def revalidate_after_retest(self, strategy_id: int, token: int, new_score: float, *, max_size: int,
                                min_score: float, **fields: Any) -> PoolDecision:
        """After a re-test: retire (below min_score, or full pool and below every other member)
        or keep with the new score and ``fields`` (e.g. ``last_backtested_at``), atomically."""
        repo = self.strategies
        with self.engine.begin() as conn:
            self._lock(conn)
            worst = self._worst(conn, exclude=strategy_id)
            decision = decide_retest(new_score, self._count(conn), worst.score if worst else None,
                                     max_size=max_size, min_score=min_score)
            to = StrategyStatus.RETIRED if decision.action is PoolAction.REJECT else ACTIVE
            repo.transition_in(conn, strategy_id, token, to, phase="retest", reason=f"retest:{decision.action}",
                               detail=decision.reason, score=new_score, **fields)
            return decision

    def stats(self) -> PoolStats:
        """Count and min/max/avg score of the ACTIVE pool."""
        q = select(func.count(), func.min(T.c.score), func.max(T.c.score), func.avg(T.c.score)).where(
            T.c.status == str(ACTIVE))
        with self.engine.connect() as conn:
            n, lo, hi, avg = conn.execute(q).one()
        return PoolStats(n, lo, hi, float(avg) if avg is not None else None)

    def worst(self) -> StrategyRecord | None:
        """The pool member with the lowest score (ties: the newest), or None."""
        with self.engine.connect() as conn:
            row = self._worst(conn)
            if row is None:
                return None
            return to_strategy(conn.execute(select(T).where(T.c.id == row.id)).one())

    def top(self, n: int) -> list[StrategyRecord]:
        """The ``n`` best ACTIVE strategies by score."""
        return self.strategies.list_by_status(ACTIVE, by_score=True, limit=n)
