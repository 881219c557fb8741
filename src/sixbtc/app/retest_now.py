"""``sixbtc retest``: re-test ACTIVE strategies now, in this process (SPEC §3.4 re-test).

Without arguments the due ones (last backtested more than ``retest.interval_days`` ago),
with ``every`` all ACTIVE strategies, with a name that one strategy; each on the same
window as the service (:func:`~sixbtc.app.window.plan_window`), through the same claim and
verdict as the re-test workers (:func:`~sixbtc.app.retesting.retest_claimed`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sixbtc.app.container import Container
from sixbtc.app.processes import worker_id
from sixbtc.app.retesting import retest_claimed, retest_due_before
from sixbtc.app.window import plan_window, symbols_by_timeframe
from sixbtc.core.errors import SixbtcError
from sixbtc.domain.strategy import StrategyStatus
from sixbtc.strategy.sandbox import StrategySandbox


@dataclass(frozen=True)
class RetestLine:
    """One re-tested strategy: its score before, its status and score after (RETIRED: the
    re-test or the pool rules evicted it)."""

    name: str
    score_before: float | None
    status: str
    score_after: float | None


def retest_now(c: Container, name: str | None = None, every: bool = False,
               on_done: Callable[[RetestLine], None] | None = None) -> list[RetestLine]:
    """Re-test the due ACTIVE strategies, all of them (``every``), or the one named ``name``.

    Raises
    ------
    SixbtcError
        When ``name`` is not an unclaimed ACTIVE strategy.
    DataError
        When the candle store is empty.
    """
    window = plan_window(c.store, c.settings, c.clock)
    worker = worker_id("retester")
    due_before = c.clock.now() if every else retest_due_before(c)  # --all: everything backtested before now
    lines: list[RetestLine] = []
    with StrategySandbox(c.sandbox_limits()) as sandbox:
        symbols = symbols_by_timeframe(c.store, c.settings, window, c.registry.get_active_pairs())
        while True:
            if name is not None:
                rec = c.strategies.claim_named(name, StrategyStatus.ACTIVE, worker)
                if rec is None and not lines:
                    raise SixbtcError(f"no unclaimed ACTIVE strategy named {name!r} (see `sixbtc pool`)")
            else:
                rec = c.strategies.claim(StrategyStatus.ACTIVE, worker, oldest_backtest_first=True,
                                         backtested_before=due_before)
            if rec is None:
                return lines
            retest_claimed(c, sandbox, window, rec, symbols)
            after = c.strategies.get(rec.id)
            lines.append(RetestLine(rec.name, rec.score, str(after.status) if after else "deleted",
                                    after.score if after else None))
            if on_done is not None:
                on_done(lines[-1])
            if name is not None:
                return lines
