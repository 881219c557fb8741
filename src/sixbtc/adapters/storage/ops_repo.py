"""Operations records (migration 0011): role heartbeats, metrics snapshots and alerts.

Heartbeats are one row per worker process (``{role}@{host}:{pid}…``), upserted every
``processes.heartbeat_s``; a clean stop sets ``state`` to ``stopped``. Snapshots are the metrics
collector's JSON rows. Alerts are every anomaly, crash and heartbeat message notified (or due
and without a channel), with whether it was sent, so that cooldowns hold across processes and
restarts. Times come from the clock (UTC).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from sixbtc.adapters.storage.mapping import utc
from sixbtc.adapters.storage.tables import (
    AlertRow,
    MetricsSnapshotRow,
    RoleHeartbeatRow,
    StrategyEventRow,
)
from sixbtc.core.clock import Clock, LiveClock

HB = RoleHeartbeatRow.__table__
SNAP = MetricsSnapshotRow.__table__
AL = AlertRow.__table__
EV = StrategyEventRow.__table__


class OpsRepository:
    """Heartbeats, snapshots and alerts.

    Parameters
    ----------
    engine : Engine
        Migrated engine (SQLite or PostgreSQL).
    clock : Clock or None
        Time source (default: the wall clock, UTC).
    """

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or LiveClock()

    # -- heartbeats ---------------------------------------------------------------------
    def beat(self, worker: str, role: str, host: str, pid: int, *, state: str = "running", detail: str = "") -> None:
        """Record that ``worker`` (a process of ``role``) is alive now (or ``state``)."""
        now = self.clock.now()
        values = {"role": role, "host": host, "pid": pid, "state": state, "beat_at": now, "detail": detail[:2000]}
        with self.engine.begin() as conn:
            done = conn.execute(update(HB).where(HB.c.worker == worker).values(**values)).rowcount
            if not done:
                conn.execute(insert(HB).values(worker=worker, started_at=now, **values))

    def heartbeats(self) -> list[dict[str, Any]]:
        """Every heartbeat row: ``worker``, ``role``, ``host``, ``pid``, ``state``, ``started_at``,
        ``beat_at`` (UTC), ``detail``; newest beat first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(HB).order_by(HB.c.beat_at.desc())).mappings().all()
        return [dict(r, started_at=utc(r["started_at"]), beat_at=utc(r["beat_at"])) for r in rows]

    # -- metrics snapshots --------------------------------------------------------------
    def add_snapshot(self, ts: datetime, status: str, data: dict[str, Any]) -> int:
        """Store one snapshot; returns its id."""
        with self.engine.begin() as conn:
            return int(conn.execute(insert(SNAP).values(ts=ts, status=status, data=data)).inserted_primary_key[0])

    def latest_snapshot(self) -> dict[str, Any] | None:
        """The newest snapshot (``id``, ``ts``, ``status``, ``data``) or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(SNAP).order_by(SNAP.c.id.desc()).limit(1)).mappings().first()
        return dict(row, ts=utc(row["ts"])) if row else None

    def count_snapshots(self) -> int:
        """How many snapshots are stored."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(SNAP)).scalar_one())

    # -- alerts -------------------------------------------------------------------------
    def add_alert(self, kind: str, key: str, severity: str, message: str, *, sent: bool) -> int:
        """Record an alert (``sent``: a channel accepted it; False: no channel, or all failed)."""
        with self.engine.begin() as conn:
            return int(conn.execute(insert(AL).values(kind=kind, key=key[:128], severity=severity, message=message,
                                                      sent=sent, ts=self.clock.now())).inserted_primary_key[0])

    def last_alert(self, kind: str, key: str) -> datetime | None:
        """When an alert of ``kind`` and ``key`` was last recorded (None: never)."""
        q = select(func.max(AL.c.ts)).where(AL.c.kind == kind, AL.c.key == key[:128])
        with self.engine.connect() as conn:
            ts = conn.execute(q).scalar_one_or_none()
        return utc(ts) if ts is not None else None

    def alerts(self, kind: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The newest ``limit`` alerts (of ``kind`` when given), newest first."""
        q = select(AL).order_by(AL.c.id.desc()).limit(limit)
        if kind is not None:
            q = q.where(AL.c.kind == kind)
        with self.engine.connect() as conn:
            return [dict(r, ts=utc(r["ts"])) for r in conn.execute(q).mappings()]

    # -- strategy events, for the metrics collector --------------------------------------
    def events_since(self, since: datetime, limit: int = 200_000) -> list[dict[str, Any]]:
        """Strategy events since ``since``, oldest first (at most the newest ``limit``):
        ``strategy_id``, ``from_status``, ``to_status``, ``phase``, ``reason``, ``ts`` (UTC)."""
        q = (select(EV.c.id, EV.c.strategy_id, EV.c.from_status, EV.c.to_status, EV.c.phase, EV.c.reason, EV.c.ts)
             .where(EV.c.ts >= since).order_by(EV.c.id.desc()).limit(limit))
        with self.engine.connect() as conn:
            rows = conn.execute(q).mappings().all()
        return [dict(r, ts=utc(r["ts"])) for r in reversed(rows)]
