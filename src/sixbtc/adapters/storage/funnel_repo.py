"""``cleanup_old_events``: strategy events older than the retention become counts.

Metrics count events (strategies generated per day, rejections by reason, the funnel); to
keep those totals right once old events are deleted, :meth:`FunnelRepository.fold_events`
adds each old event to ``funnel_counts`` (per UTC day, phase, from, to and reason) in the same
transaction that deletes it. The readers of :class:`~sixbtc.adapters.storage.strategy_repo.StrategyRepository`
(``count_created_since``, ``rejections_by_reason``) add the folded counts of the days that
start at or after their ``since``.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, insert, select, update

from sixbtc.adapters.storage.mapping import utc
from sixbtc.adapters.storage.tables import FunnelCountRow, StrategyEventRow

E = StrategyEventRow.__table__
F = FunnelCountRow.__table__
Key = tuple[datetime, str, str, str, str]  # day, phase, from, to, reason


def _day(ts: datetime) -> datetime:
    t = utc(ts)
    assert t is not None
    return datetime(t.year, t.month, t.day, tzinfo=UTC)


class FunnelRepository:
    """Fold old events into ``funnel_counts`` and read the folded counts.

    Parameters
    ----------
    engine : Engine
        Migrated engine.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def fold_events(self, before: datetime, batch: int = 5000) -> int:
        """Move every event with ``ts < before`` into ``funnel_counts``; return how many.

        Works oldest first in transactions of ``batch`` events; each transaction adds the
        counts and deletes the events together (a crash loses or doubles nothing).
        """
        n = 0
        while True:
            with self.engine.begin() as conn:
                rows = conn.execute(select(E.c.id, E.c.ts, E.c.phase, E.c.from_status, E.c.to_status, E.c.reason)
                                    .where(E.c.ts < before).order_by(E.c.id).limit(batch)).all()
                counts = Counter((_day(r.ts), r.phase, r.from_status or "", r.to_status or "", r.reason) for r in rows)
                for key, k in counts.items():
                    self._add(conn, key, k)
                if rows:
                    conn.execute(delete(E).where(E.c.id.in_([r.id for r in rows])))
            n += len(rows)
            if len(rows) < batch:
                return n

    @staticmethod
    def _add(conn: object, key: Key, k: int) -> None:
        day, phase, src, dst, reason = key
        where = (F.c.day == day, F.c.phase == phase, F.c.from_status == src, F.c.to_status == dst, F.c.reason == reason)
        if conn.execute(update(F).where(*where).values(count=F.c.count + k)).rowcount == 0:  # type: ignore[attr-defined]
            conn.execute(insert(F).values(day=day, phase=phase, from_status=src, to_status=dst, reason=reason,  # type: ignore[attr-defined]
                                          count=k))

    def counts(self, since: datetime | None = None) -> dict[Key, int]:
        """Folded counts per (day, phase, from, to, reason); ``''`` = no status (deleted)."""
        q = select(F)
        if since is not None:
            q = q.where(F.c.day >= since)
        with self.engine.connect() as conn:
            return {(utc(r.day), r.phase, r.from_status, r.to_status, r.reason): r.count  # type: ignore[misc]
                    for r in conn.execute(q)}
