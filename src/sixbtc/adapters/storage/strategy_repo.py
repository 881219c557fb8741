"""Strategies and their events: insert, atomic claims with fencing tokens, transitions.

Claims (ARCHITECTURE §2): on SQLite the claim is one ``UPDATE … WHERE id = (SELECT … LIMIT 1)
AND processing_by IS NULL RETURNING`` inside ``BEGIN IMMEDIATE``; on PostgreSQL the inner
select uses ``FOR UPDATE SKIP LOCKED``. Each claim increments ``claim_token``; a write that
carries a stale token raises :class:`~sixbtc.core.errors.StaleClaim` and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from sixbtc.adapters.storage.db import is_sqlite
from sixbtc.adapters.storage.mapping import to_strategy
from sixbtc.adapters.storage.tables import (
    FunnelCountRow,
    PositionRow,
    StrategyEventRow,
    StrategyRow,
    SubaccountRow,
)
from sixbtc.core.clock import Clock, LiveClock
from sixbtc.core.errors import StaleClaim
from sixbtc.domain.claims import WorkerId
from sixbtc.domain.strategy import (
    StrategyCandidate,
    StrategyRecord,
    StrategyStatus,
    check_transition,
)

T = StrategyRow.__table__
E = StrategyEventRow.__table__
Pos = PositionRow.__table__
F = FunnelCountRow.__table__
Sub = SubaccountRow.__table__
log = logging.getLogger(__name__)
#: What mapping a damaged row raises (an unknown enum value, a wrong JSON type).
_UNREADABLE = (ValueError, KeyError, TypeError)


#: ``strategy_name`` of an event of no one strategy (:meth:`StrategyRepository.global_event_in`).
GLOBAL_EVENT_NAME = "*"
#: PostgreSQL advisory lock key serialising :meth:`StrategyRepository.add_within_limits`.
_GENERATION_LOCK_KEY = 6_142_000_002


class StrategyRepository:
    """Persistence of strategies and strategy events.

    Parameters
    ----------
    engine : Engine
        From :func:`sixbtc.adapters.storage.db.make_engine`, migrated.
    clock : Clock
        Time source for ``created_at``, claims and events.
    """

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or LiveClock()

    # -- creation and reads ------------------------------------------------------------
    def add(self, cand: StrategyCandidate) -> int | None:
        """Insert a GENERATED strategy; return its id, or None if its code hash or name exists."""
        try:
            with self.engine.begin() as conn:
                return self._insert(conn, cand)
        except IntegrityError:
            return None

    def add_within_limits(self, cands: list[StrategyCandidate], since: datetime, daily_limit: int,
                          max_queue: int) -> tuple[int, int]:
        """Insert GENERATED strategies while the generation limits hold, atomically across processes.

        In one transaction (SQLite ``BEGIN IMMEDIATE``; PostgreSQL a transaction-level advisory
        lock) the room is counted as ``min(daily_limit - created since since,
        max_queue - GENERATED waiting)`` (:meth:`count_created_since`) and candidates are inserted
        until it is used up; a candidate whose code hash or name exists is skipped (a savepoint).
        Parallel generators therefore never exceed the daily limit or the queue bound together.

        Returns
        -------
        (int, int)
            Strategies inserted, and candidates skipped: duplicates plus those beyond the room.
        """
        created = 0
        with self.engine.begin() as conn:
            if not is_sqlite(self.engine):
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _GENERATION_LOCK_KEY})
            waiting = conn.execute(select(func.count()).where(T.c.status == str(StrategyStatus.GENERATED))).scalar_one()
            room = min(daily_limit - self._created_since(conn, since), max_queue - int(waiting))
            for cand in cands:
                if created >= room:
                    break
                try:
                    with conn.begin_nested():
                        self._insert(conn, cand)
                    created += 1
                except IntegrityError:
                    continue
        return created, len(cands) - created

    def _insert(self, conn: Connection, cand: StrategyCandidate) -> int:
        now = self.clock.now()
        new_id = conn.execute(
            insert(T).values(
                name=cand.name, type=str(cand.type), source=str(cand.source),
                status=str(StrategyStatus.GENERATED), code=cand.code, code_hash=cand.code_hash,
                genome=cand.genome, created_at=now, updated_at=now, claim_token=0,
            ).returning(T.c.id)
        ).scalar_one()
        self._event(conn, new_id, cand.name, None, StrategyStatus.GENERATED, "generator", f"source:{cand.source}", "")
        return new_id

    def existing_hashes(self) -> set[str]:
        """Code hashes of every stored strategy (duplicate detection)."""
        with self.engine.connect() as conn:
            return set(conn.execute(select(T.c.code_hash)).scalars())

    def get(self, strategy_id: int) -> StrategyRecord | None:
        """Return one strategy or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(T).where(T.c.id == strategy_id)).first()
        return to_strategy(row) if row else None

    def list_by_status(self, status: StrategyStatus, *, by_score: bool = False, limit: int | None = None) -> list[StrategyRecord]:
        """Strategies with ``status``, by id, or by score descending when ``by_score``.

        A row that cannot be read as a strategy (a damaged record) is left out with a warning,
        so one bad row never stops the role that lists them.
        """
        order = (T.c.score.desc(), T.c.id) if by_score else (T.c.id,)
        q = select(T).where(T.c.status == str(status)).order_by(*order).limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        out = []
        for row in rows:
            try:
                out.append(to_strategy(row))
            except _UNREADABLE as exc:
                log.warning("strategy %s: unreadable record left out: %s: %s", row.id, type(exc).__name__, exc)
        return out

    def counts_by_status(self) -> dict[str, int]:
        """Number of strategies per status; every status present (0 when none)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(T.c.status, func.count()).group_by(T.c.status)).all()
        counts = {str(s): 0 for s in StrategyStatus}
        counts.update({status: n for status, n in rows})
        return counts

    def rejections_by_reason(self, since: datetime | None = None) -> dict[str, int]:
        """Count of rejection events (strategy deleted: ``to_status`` NULL, from a status) per
        reason, with the folded counts of deleted events (``funnel_counts``, days from ``since``).
        Events of no status change and no strategy (:meth:`global_event_in`: an emergency stop)
        are not rejections."""
        q = select(E.c.reason, func.count()).where(E.c.to_status.is_(None), E.c.from_status.is_not(None))
        folded = select(F.c.reason, func.sum(F.c.count)).where(F.c.to_status == "", F.c.from_status != "")
        if since is not None:
            q, folded = q.where(E.c.ts >= since), folded.where(F.c.day >= since)
        with self.engine.connect() as conn:
            counts = dict(conn.execute(q.group_by(E.c.reason)).all())
            for reason, k in conn.execute(folded.group_by(F.c.reason)).all():
                counts[reason] = counts.get(reason, 0) + int(k)
        return counts

    def count_created_since(self, since: datetime) -> int:
        """Strategies generated since ``since`` (from GENERATED events and their folded counts in
        ``funnel_counts``; survives deletions of strategies and events, and restarts)."""
        with self.engine.connect() as conn:
            return self._created_since(conn, since)

    @staticmethod
    def _created_since(conn: Connection, since: datetime) -> int:
        q = select(func.count()).where(E.c.to_status == str(StrategyStatus.GENERATED), E.c.ts >= since)
        folded = select(func.coalesce(func.sum(F.c.count), 0)).where(F.c.to_status == str(StrategyStatus.GENERATED),
                                                                     F.c.day >= since)
        return int(conn.execute(q).scalar_one()) + int(conn.execute(folded).scalar_one())

    def refusals(self, limit: int = 1000) -> list[dict[str, Any]]:
        """The newest ``limit`` refusal events, newest first: rejections (strategy deleted,
        ``to_status`` NULL) of the backtest and score phases, and pool refusals (to RETIRED,
        reason ``pool:rule*`` or ``pool:correlated``)."""
        deleted = E.c.to_status.is_(None) & E.c.phase.in_(("backtest", "score"))
        pool = (E.c.to_status == str(StrategyStatus.RETIRED)) & (E.c.reason.startswith("pool:rule")
                                                                 | (E.c.reason == "pool:correlated"))
        q = select(E).where(deleted | pool).order_by(E.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def events(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest status-change events, newest first."""
        q = select(E).order_by(E.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    # -- claims ------------------------------------------------------------------------
    def claim(self, status: StrategyStatus, worker: str, *, oldest_backtest_first: bool = False,
              backtested_before: datetime | None = None) -> StrategyRecord | None:
        """Atomically claim one unclaimed strategy with ``status`` for ``worker``.

        Returns the claimed record (its ``claim_token`` is the fencing token) or None. A claimed
        row that cannot be read as a strategy is marked FAILED (``error:unreadable_record``)
        and the next one is claimed: one damaged row never stops a worker.
        """
        inner = select(T.c.id).where(T.c.status == str(status), T.c.processing_by.is_(None))
        if backtested_before is not None:
            inner = inner.where(T.c.last_backtested_at < backtested_before)
        # NULLS FIRST: never-backtested first on both backends (PostgreSQL sorts NULL last by default)
        oldest = (T.c.last_backtested_at.asc().nulls_first(), T.c.id)
        inner = inner.order_by(*oldest) if oldest_backtest_first else inner.order_by(T.c.id)
        inner = inner.limit(1)
        if not is_sqlite(self.engine):
            inner = inner.with_for_update(skip_locked=True)
        stmt = (
            update(T)
            .where(T.c.id == inner.scalar_subquery(), T.c.processing_by.is_(None))
            .values(processing_by=worker, processing_started_at=self.clock.now(), claim_token=T.c.claim_token + 1)
            .returning(*T.c)
        )
        while True:  # each pass either returns or marks one damaged row FAILED
            with self.engine.begin() as conn:
                row = conn.execute(stmt).first()
            if row is None:
                return None
            try:
                return to_strategy(row)
            except _UNREADABLE as exc:  # a damaged record: FAILED with the reason, claim the next one
                with self.engine.begin() as conn:
                    self.transition_in(conn, row.id, row.claim_token, StrategyStatus.FAILED, phase="storage",
                                       reason="error:unreadable_record", detail=f"{type(exc).__name__}: {exc}")

    def claim_named(self, name: str, status: StrategyStatus, worker: str) -> StrategyRecord | None:
        """Claim the unclaimed strategy ``name`` if it has ``status``; None otherwise."""
        stmt = (update(T).where(T.c.name == name, T.c.status == str(status), T.c.processing_by.is_(None))
                .values(processing_by=worker, processing_started_at=self.clock.now(), claim_token=T.c.claim_token + 1)
                .returning(*T.c))
        with self.engine.begin() as conn:
            row = conn.execute(stmt).first()
        return to_strategy(row) if row is not None else None

    def release(self, strategy_id: int, token: int) -> None:
        """Give a claim back without changing the strategy (no-op if the token is stale)."""
        with self.engine.begin() as conn:
            conn.execute(update(T).where(T.c.id == strategy_id, T.c.claim_token == token)
                         .values(processing_by=None, processing_started_at=None))

    def release_stale(self, older_than: timedelta) -> int:
        """Release claims older than ``older_than`` (crashed workers); return how many."""
        cutoff = self.clock.now() - older_than
        with self.engine.begin() as conn:
            res = conn.execute(update(T).where(T.c.processing_by.is_not(None), T.c.processing_started_at < cutoff)
                               .values(processing_by=None, processing_started_at=None))
        return res.rowcount

    def release_dead(self, host: str, is_dead: Callable[[WorkerId], bool]) -> int:
        """Release the claims of dead workers of ``host``; return how many.

        A claim's worker id names its host and process (:class:`~sixbtc.domain.claims.WorkerId`);
        claims of this host whose process ``is_dead(worker_id)`` are given back. Claims of other
        hosts and ids in another format are left to :meth:`release_stale` (age).
        """
        with self.engine.connect() as conn:
            claims = conn.execute(select(T.c.id, T.c.processing_by).where(T.c.processing_by.is_not(None))).all()
        dead = [(sid, by) for sid, by in claims
                if (w := WorkerId.parse(by)) is not None and w.same_host(host) and is_dead(w)]
        n = 0
        for sid, by in dead:
            with self.engine.begin() as conn:
                n += conn.execute(update(T).where(T.c.id == sid, T.c.processing_by == by)
                                  .values(processing_by=None, processing_started_at=None)).rowcount
        return n

    def delete_unclaimed(self, statuses: Collection[StrategyStatus], changed_before: datetime, *, phase: str,
                         reason: str, batch: int = 500) -> int:
        """Delete unclaimed strategies of ``statuses`` unchanged since before ``changed_before``
        (``updated_at``), keeping ``reason`` as an event each; return how many (the cleanup tasks).

        Never deleted: a claimed strategy, one with an open position, one holding a
        sub-account. Their backtest results go with them (``ON DELETE CASCADE``); trades,
        orders and trials stay. Works in transactions of ``batch`` strategies.
        """
        keep = (T.c.id.in_(select(Pos.c.strategy_id).where(Pos.c.is_open.is_(True)))
                | T.c.id.in_(select(Sub.c.strategy_id).where(Sub.c.strategy_id.is_not(None))))
        old = (T.c.status.in_([str(s) for s in statuses]) & T.c.processing_by.is_(None)
               & (T.c.updated_at < changed_before) & ~keep)
        n = 0
        while True:
            with self.engine.begin() as conn:
                ids = conn.execute(select(T.c.id).where(old).order_by(T.c.id).limit(batch)).scalars().all()
                gone = conn.execute(delete(T).where(T.c.id.in_(ids), old)
                                    .returning(T.c.id, T.c.name, T.c.status)).all() if ids else []
                for r in gone:  # re-checked by the DELETE: a row claimed meanwhile stays
                    self._event(conn, r.id, r.name, StrategyStatus(r.status), None, phase, reason, "")
            n += len(gone)
            if len(ids) < batch:
                return n

    # -- fenced writes -----------------------------------------------------------------
    def transition(self, strategy_id: int, token: int, to: StrategyStatus, *, phase: str, reason: str,
                   detail: str = "", **fields: Any) -> None:
        """Move a claimed strategy to ``to``, set ``fields``, release the claim, write the event.

        Raises
        ------
        StaleClaim
            If ``token`` is not the current claim token (another worker owns it now).
        ValueError
            If the transition is not allowed by the status table.
        """
        with self.engine.begin() as conn:
            self.transition_in(conn, strategy_id, token, to, phase=phase, reason=reason, detail=detail, **fields)

    def transition_in(self, conn: Connection, strategy_id: int, token: int | None, to: StrategyStatus, *,
                      phase: str, reason: str, detail: str = "", **fields: Any) -> None:
        """:meth:`transition` inside the caller's transaction (``token`` None = unclaimed move)."""
        row = conn.execute(select(T.c.status, T.c.name, T.c.claim_token).where(T.c.id == strategy_id)).first()
        if row is None or (token is not None and row.claim_token != token):
            raise StaleClaim(f"strategy {strategy_id}: claim token {token} is stale")
        src = StrategyStatus(row.status)
        check_transition(src, to)
        values = dict(fields, status=str(to), updated_at=self.clock.now(), processing_by=None, processing_started_at=None)
        where = [T.c.id == strategy_id] + ([T.c.claim_token == token] if token is not None else [])
        if conn.execute(update(T).where(*where).values(**values)).rowcount != 1:
            raise StaleClaim(f"strategy {strategy_id}: claim lost during transition")
        if src != to or reason:
            self._event(conn, strategy_id, row.name, src, to, phase, reason, detail)

    def reject(self, strategy_id: int, token: int, *, phase: str, reason: str, detail: str = "") -> None:
        """Delete a claimed candidate that failed a gate, keeping the reason as an event.

        Raises
        ------
        StaleClaim
            If ``token`` is stale.
        """
        with self.engine.begin() as conn:
            row = conn.execute(select(T.c.status, T.c.name).where(T.c.id == strategy_id, T.c.claim_token == token)).first()
            if row is None:
                raise StaleClaim(f"strategy {strategy_id}: claim token {token} is stale")
            conn.execute(delete(T).where(T.c.id == strategy_id, T.c.claim_token == token))
            self._event(conn, strategy_id, row.name, StrategyStatus(row.status), None, phase, reason, detail[:2000])

    def event_in(self, conn: Connection, strategy_id: int, *, phase: str, reason: str, detail: str = "",
                 once: bool = False) -> None:
        """Record an event without a status change (from = to = the current status); with
        ``once``, not when the strategy's newest event of ``reason`` already says ``detail``
        (a condition that holds at every rotation is recorded when it starts, not each time)."""
        row = conn.execute(select(T.c.status, T.c.name).where(T.c.id == strategy_id)).first()
        if row is not None and once:
            last = conn.execute(select(E.c.detail).where(E.c.strategy_id == strategy_id, E.c.reason == reason[:64])
                                .order_by(E.c.id.desc()).limit(1)).scalar()
            if last == detail[:2000]:
                return
        if row is not None:
            status = StrategyStatus(row.status)
            self._event(conn, strategy_id, row.name, status, status, phase, reason, detail[:2000])

    def global_event_in(self, conn: Connection, *, phase: str, reason: str, detail: str = "") -> None:
        """Record an event of no one strategy (``strategy_id`` NULL, ``strategy_name`` ``*``),
        e.g. an emergency stop of all trading, inside the caller's transaction."""
        self._event(conn, None, GLOBAL_EVENT_NAME, None, None, phase, reason, detail[:2000])

    def _event(self, conn: Connection, sid: int | None, name: str, src: StrategyStatus | None, dst: StrategyStatus | None,
               phase: str, reason: str, detail: str) -> None:
        conn.execute(insert(E).values(
            strategy_id=sid, strategy_name=name, from_status=str(src) if src else None,
            to_status=str(dst) if dst else None, phase=phase, reason=reason[:64], detail=detail, ts=self.clock.now(),
        ))
