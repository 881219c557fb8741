"""The executor's reconciliations with its venue (migration 0013), for ``sixbtc status``.

One row per start-up reconciliation (:func:`sixbtc.executor.reconcile.reconcile`), written by
the app after it ran (or failed); times from the clock (UTC).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, insert, select

from sixbtc.adapters.storage.mapping import utc
from sixbtc.adapters.storage.tables import ReconciliationRow
from sixbtc.core.clock import Clock, LiveClock

R = ReconciliationRow.__table__
#: Outcomes of a reconciliation: nothing unexplained, a mismatch (those symbols are not
#: traded, an alert was raised), or it did not complete (the venue failed; nothing was sent).
OUTCOMES = ("ok", "mismatch", "failed")


class ReconcileRepository:
    """Reconciliation records.

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

    def record(self, *, mode: str, venue: str, outcome: str, summary: str,
               mismatches: list[tuple[str, str, str]], seconds: float) -> None:
        """Store one reconciliation (``outcome`` in :data:`OUTCOMES`; ``seconds`` its wall time).

        Raises
        ------
        ValueError
            ``outcome`` not in :data:`OUTCOMES`.
        """
        if outcome not in OUTCOMES:
            raise ValueError(f"reconciliation outcome {outcome!r} not in {OUTCOMES}")
        with self.engine.begin() as conn:
            conn.execute(insert(R).values(ts=self.clock.now(), mode=mode, venue=venue, outcome=outcome,
                                          summary=summary[:4000], mismatches=[list(m) for m in mismatches],
                                          seconds=float(seconds)))

    def last(self) -> dict[str, Any] | None:
        """The newest reconciliation: ``ts`` (UTC), ``mode``, ``venue``, ``outcome``, ``summary``,
        ``mismatches`` (list of ``[account, symbol, detail]``), ``seconds``; None before any."""
        with self.engine.connect() as conn:
            row = conn.execute(select(R).order_by(R.c.ts.desc(), R.c.id.desc()).limit(1)).first()
        if row is None:
            return None
        out = dict(row._mapping)
        out["ts"] = utc(out["ts"])
        out.pop("id")
        return out
