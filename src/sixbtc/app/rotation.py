"""Rotator role: fill free LIVE slots from the pool (SPEC §3.6) over the repositories."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from sixbtc.adapters.storage.lease_repo import LeaseRepository
from sixbtc.adapters.storage.tables import StrategyRow
from sixbtc.app.container import Container
from sixbtc.app.lease import HeldLease
from sixbtc.core.errors import StaleClaim
from sixbtc.domain.strategy import StrategyRecord, StrategyStatus
from sixbtc.domain.timeframe import Timeframe
from sixbtc.rotator.correlation import DailyReturns
from sixbtc.rotator.rotation import Promotion, plan_rotation, rotate

T = StrategyRow.__table__
#: The lease every rotation holds (one rotation at a time per database).
ROTATOR_LEASE = "rotator"


class RepoRotationStore:
    """:class:`~sixbtc.rotator.ports.RotationStore` over the repositories."""

    def __init__(self, c: Container) -> None:
        self.c = c

    def live(self) -> list[StrategyRecord]:
        return self.c.strategies.list_by_status(StrategyStatus.LIVE)

    def pool_by_score(self) -> list[StrategyRecord]:
        return self.c.strategies.list_by_status(StrategyStatus.ACTIVE, by_score=True)

    def daily_returns(self, strategy_ids: list[int]) -> dict[int, DailyReturns | None]:
        """OOS daily returns of each strategy's newest aggregate backtest row (see :func:`backtest_reference`).

        The series ends on the UTC day of the last OOS bar, which opens one bar of the row's
        timeframe before its ``data_end`` (the OOS window is ``[oos_start, data_end)``), and is
        taken to cover consecutive days; None when the row has no ``daily_returns`` (older
        rows) or fewer than 2 of them.
        """
        out: dict[int, DailyReturns | None] = {}
        for sid in strategy_ids:
            try:
                out[sid] = _daily_returns(backtest_reference(self.c, sid))
            except (TypeError, ValueError, KeyError) as exc:  # a malformed row: no series, on record
                out[sid] = None
                self._event(sid, f"daily returns unreadable: {type(exc).__name__}: {exc}")
        return out

    def failed(self, strategy: StrategyRecord, detail: str) -> None:
        """Event ``rotator:error`` on ``strategy`` (its status is unchanged); the same detail
        twice in a row is recorded once (e.g. a GRD strategy refused at every rotation)."""
        self._event(strategy.id, detail)

    def _event(self, strategy_id: int, detail: str) -> None:
        with self.c.engine.begin() as conn:
            self.c.strategies.event_in(conn, strategy_id, phase="rotator", reason="rotator:error", detail=detail,
                                       once=True)

    def promote(self, strategy: StrategyRecord, reason: str) -> str:
        """ACTIVE → LIVE with a sub-account, in one transaction (a LIVE strategy without one
        would hold a slot and never trade), unless a worker holds a claim on it (then
        StaleClaim); bumps the fencing token so a re-test started earlier cannot overwrite the
        promotion."""
        mode = "paper" if self.c.settings.executor.dry_run else "live"
        with self.c.engine.begin() as conn:
            claimed = conn.execute(select(T.c.processing_by).where(T.c.id == strategy.id)).scalar()
            if claimed:
                raise StaleClaim(f"strategy {strategy.id} is being processed by {claimed}")
            self.c.strategies.transition_in(conn, strategy.id, strategy.claim_token, StrategyStatus.LIVE,
                                            phase="rotator", reason="rotator:promoted", detail=reason,
                                            live_since=self.c.clock.now(), claim_token=T.c.claim_token + 1)
            return self.c.trading.assign_subaccount_in(conn, strategy.id, mode,
                                                       self.c.settings.executor.subaccount_capital_usd)


def _daily_returns(row: dict[str, Any] | None) -> DailyReturns | None:
    values = (row or {}).get("oos_metrics", {}).get("daily_returns")
    if row is None or not values or len(values) < 2:
        return None
    last_bar = pd.Timestamp(row["data_end"]) - pd.Timedelta(milliseconds=Timeframe.parse(row["timeframe"]).ms)
    return DailyReturns(last_bar.date(), np.asarray(values, dtype=np.float64))


def backtest_reference(c: Container, strategy_id: int) -> dict[str, Any] | None:
    """The newest aggregate backtest row (``symbol`` None) of the strategy's chosen parameters.

    That is the newest aggregate row with a score (first backtest or re-test); rows of the other
    timeframes' best choices carry no score. None when the strategy has no such row.
    """
    rows = [r for r in c.results.for_strategy(strategy_id) if r["symbol"] is None and r["score"] is not None]
    return rows[-1] if rows else None


def rotate_now(c: Container) -> list[Promotion]:
    """Fill free LIVE slots from the pool (SPEC §3.6), only with strategies that have a coin in
    the current universe (active coins of the coin registry).

    Runs under the ``rotator`` lease, so two processes (the service and ``sixbtc rotate``)
    never fill the same free slots at once.

    Raises
    ------
    LeaseHeld
        When another live process is rotating this database now.
    """
    with HeldLease(LeaseRepository(c.engine, name=ROTATOR_LEASE), "rotator"):
        return rotate(RepoRotationStore(c), c.settings.rotator, set(c.registry.get_active_pairs()))


def plan_now(c: Container) -> list[StrategyRecord]:
    """The strategies :func:`rotate_now` would promote now (nothing is written)."""
    return plan_rotation(RepoRotationStore(c), c.settings.rotator, set(c.registry.get_active_pairs()))
