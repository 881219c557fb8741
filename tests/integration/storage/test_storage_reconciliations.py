"""The executor's reconciliation records (``reconciliations``, migration 0013) on SQLite and
PostgreSQL: the newest one is returned with its outcome, mismatches and an aware UTC time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sixbtc.adapters.storage.reconcile_repo import ReconcileRepository


def test_the_newest_reconciliation_is_returned_with_its_mismatches(engine, clock) -> None:
    repo = ReconcileRepository(engine, clock)
    assert repo.last() is None
    repo.record(mode="live", venue="hyperliquid", outcome="ok", summary="first", mismatches=[], seconds=0.5)
    clock.advance_to(clock.now() + timedelta(minutes=5))
    repo.record(mode="live", venue="hyperliquid", outcome="mismatch", summary="second",
                mismatches=[("live-001", "ETH", "venue position 0.05, recorded 0")], seconds=1.25)
    last = repo.last()
    assert last == {"ts": clock.now(), "mode": "live", "venue": "hyperliquid", "outcome": "mismatch",
                    "summary": "second", "mismatches": [["live-001", "ETH", "venue position 0.05, recorded 0"]],
                    "seconds": 1.25}
    assert last["ts"].utcoffset() == timedelta(0)
    with pytest.raises(ValueError, match="outcome 'maybe'"):
        repo.record(mode="live", venue="hyperliquid", outcome="maybe", summary="", mismatches=[], seconds=0.0)
