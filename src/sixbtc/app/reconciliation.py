"""The executor's reconciliations as records for ``sixbtc status`` (table ``reconciliations``).

:func:`record_report` stores what a completed reconciliation found (outcome ``ok``, or
``mismatch`` when a symbol is refused after an unexplained difference);
:func:`reconcile_now` runs one (live mode does it at start, before any candle or order) and
also stores a failure (outcome ``failed``: the venue could not be read; nothing was sent and
the service tries again at its next step).
"""

from __future__ import annotations

from sixbtc.app.container import Container
from sixbtc.executor.engine import Executor
from sixbtc.executor.reconcile import ReconcileReport
from sixbtc.executor.venue import ExchangeClient


def record_report(c: Container, venue: ExchangeClient, report: ReconcileReport) -> None:
    """Store a completed reconciliation of ``venue`` (outcome ``mismatch`` when it found any)."""
    c.reconciliations.record(mode=venue.mode, venue=venue.venue, outcome="mismatch" if report.mismatches else "ok",
                             summary=report.summary(), mismatches=report.mismatches, seconds=report.seconds)


def reconcile_now(c: Container, executor: Executor) -> ReconcileReport:
    """Reconcile ``executor`` with its venue now (stored by the executor's ``on_reconcile``);
    a failure is stored with outcome ``failed`` and re-raised.

    Raises
    ------
    Exception
        What :meth:`Executor.reconcile` raises (a venue read that failed after its retries,
        a lost lease): the caller must not trade with this executor.
    """
    try:
        return executor.reconcile()
    except Exception as exc:
        venue = executor.venue
        c.reconciliations.record(mode=venue.mode, venue=venue.venue, outcome="failed",
                                 summary=f"{type(exc).__name__}: {exc}", mismatches=[], seconds=0.0)
        raise
