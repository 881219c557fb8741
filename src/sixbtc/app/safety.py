"""One call per executor pass that keeps the kill switches and trading states current.

:meth:`SafetyPass.run` reads each strategy's sub-account equity from the venue, stores the
samples (per strategy and summed: ``global``), evaluates the kill switches
(:class:`~sixbtc.executor.kill_switch.KillSwitch`), stores every halt with its strategy event
in one transaction, and returns the :class:`Permissions` the pass must obey. It also reads
HALTED states written by another process (``sixbtc emergency-stop``), so a running service
stops sending on its next pass.

Integration (the executor loop, once per pass, before deciding)::

    safety = SafetyPass(c, venue, warm_ms=now_ms)          # when trading starts
    perms = safety.run(now_ms, {sid: (account, capital_usd), ...})
    if not perms.allows(strategy_id, reduce_only=False): skip the entry
    verdict = check_entry(ctx, c.settings.risk)             # sixbtc.executor.risk
    if not verdict.ok: strategies.event_in(conn, **refusal_event(ctx, verdict))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sixbtc.app.container import Container
from sixbtc.core.errors import SixbtcError
from sixbtc.domain.risk import GLOBAL_SCOPE, Halt, TradingState, effective_state, strategy_scope
from sixbtc.executor.kill_switch import DAY_MS, KillSwitch, StrategyEquity, halt_event
from sixbtc.executor.venue import ExchangeClient

#: Samples older than this are deleted (the windows need at most 24 h; a margin for restarts).
KEEP_SAMPLES = timedelta(days=2)


@dataclass(frozen=True)
class Permissions:
    """Trading states that apply during one pass: the global one and each strategy's own."""

    global_state: TradingState
    strategies: Mapping[int, TradingState] = field(default_factory=dict)
    halts: tuple[Halt, ...] = ()

    def state_of(self, strategy_id: int) -> TradingState:
        """The strictest of the global state and the strategy's own."""
        return effective_state(self.global_state, self.strategies.get(strategy_id, TradingState.ACTIVE))

    def allows(self, strategy_id: int, *, reduce_only: bool) -> bool:
        """May this strategy send an order of this kind now (:meth:`TradingState.allows`)?"""
        return self.state_of(strategy_id).allows(reduce_only=reduce_only)


class SafetyPass:
    """Kill switches and trading states for one executor run (see the module docstring).

    Parameters
    ----------
    c : Container
    venue : ExchangeClient
        The venue the executor trades on (balances are read from it).
    warm_ms : int
        When the executor started trading (UTC ms): the kill switches' grace counts from here.
    alert : callable, optional
        Called with each new halt (the watchdog's alert; default: nothing).
    """

    def __init__(self, c: Container, venue: ExchangeClient, warm_ms: int,
                 alert: Callable[[Halt], None] | None = None) -> None:
        self.c, self.venue, self.alert = c, venue, alert or (lambda h: None)
        self.kill_switch = KillSwitch(c.settings.kill_switch, warm_ms)
        self._new: list[Halt] = []

    def run(self, now_ms: int, strategies: Mapping[int, tuple[str, float]]) -> Permissions:
        """Sample, evaluate, store halts; return the permissions of this pass.

        ``strategies``: strategy id → (its sub-account on the venue, its capital in USD). A
        balance the venue cannot give now skips the sampling of this pass (the states still
        apply); a stored HALTED or REDUCING state is never lifted here.
        """
        states = self.c.trading_states
        now = datetime.fromtimestamp(now_ms / 1000, UTC)
        self._new = []
        try:
            equity = {sid: self.venue.balance(acct).equity_usd for sid, (acct, _) in strategies.items()}
        except SixbtcError:
            equity = None
        if equity:
            states.record_equity({GLOBAL_SCOPE: sum(equity.values()),
                                  **{strategy_scope(s): e for s, e in equity.items()}}, now)
            self._evaluate(now_ms, now, strategies)
        states.prune_equity(now - KEEP_SAMPLES)
        stored = states.all()
        g = stored.get(GLOBAL_SCOPE)
        own = {sid: stored[strategy_scope(sid)].state for sid in strategies if strategy_scope(sid) in stored}
        return Permissions(g.state if g else TradingState.ACTIVE, own, tuple(self._new))

    def _evaluate(self, now_ms: int, now: datetime, strategies: Mapping[int, tuple[str, float]]) -> None:
        states = self.c.trading_states
        since = now - timedelta(milliseconds=DAY_MS)
        samples = [StrategyEquity(sid, cap, states.equity_since(strategy_scope(sid), since))
                   for sid, (_, cap) in strategies.items()]
        halts = self.kill_switch.evaluate(now_ms, states.equity_since(GLOBAL_SCOPE, since), samples, states.all())
        for halt in halts:
            with self.c.engine.begin() as conn:
                changed = states.escalate_in(conn, halt)
                if changed and (event := halt_event(halt)) is not None:
                    self.c.strategies.event_in(conn, **event)
            if changed:  # another process may have written it first
                self._new.append(halt)
                self.alert(halt)
