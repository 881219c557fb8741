"""Trading states and equity samples (migration 0008) on SQLite and PostgreSQL: states only
become stricter automatically, survive a new engine (a restart), resume sets ACTIVE; a risk
refusal and a kill-switch halt are recorded as strategy events with the payload functions."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from sixbtc.adapters.storage.db import make_engine
from sixbtc.adapters.storage.risk_repo import TradingStateRepository
from sixbtc.config.sections import KillSwitchSection, RiskSection
from sixbtc.domain.orders import Balance, Market, OrderSide
from sixbtc.domain.risk import GLOBAL_SCOPE, Halt, TradingState, strategy_scope
from sixbtc.domain.strategy import StrategyCandidate, StrategySource, StrategyType
from sixbtc.executor.kill_switch import EquitySample, KillSwitch, StrategyEquity, halt_event
from sixbtc.executor.risk import EntryContext, check_entry, refusal_event

REDUCING, HALTED, ACTIVE = TradingState.REDUCING, TradingState.HALTED, TradingState.ACTIVE


def test_states_escalate_only_and_survive_a_restart(engine: Engine, db_url: str, clock) -> None:
    repo = TradingStateRepository(engine, clock)
    assert repo.get(GLOBAL_SCOPE).state is ACTIVE and repo.get(GLOBAL_SCOPE).since is None
    assert not repo.resume(GLOBAL_SCOPE)  # never set: ACTIVE already
    assert repo.escalate(Halt(GLOBAL_SCOPE, REDUCING, "kill:global_drawdown_24h", "20 %"))
    assert not repo.escalate(Halt(GLOBAL_SCOPE, REDUCING, "kill:global_drawdown_24h", "again"))  # idempotent
    clock.advance_to(clock.now() + timedelta(minutes=5))
    assert repo.escalate(Halt(GLOBAL_SCOPE, HALTED, "emergency_stop", "by hand"))
    assert not repo.escalate(Halt(GLOBAL_SCOPE, REDUCING, "kill:global_drawdown_24h", "weaker"))
    other = make_engine(db_url)  # a second process / a restart reads the same state
    try:
        rec = TradingStateRepository(other, clock).get(GLOBAL_SCOPE)
    finally:
        other.dispose()
    assert (rec.state, rec.reason, rec.detail, rec.since) == (HALTED, "emergency_stop", "by hand", clock.now())
    clock.advance_to(clock.now() + timedelta(minutes=5))
    assert repo.resume(GLOBAL_SCOPE, "checked")
    assert repo.get(GLOBAL_SCOPE).state is ACTIVE and repo.get(GLOBAL_SCOPE).since == clock.now()
    assert repo.escalate(Halt(strategy_scope(3), REDUCING, "kill:strategy_session_loss", "12 %"))
    assert set(repo.all()) == {GLOBAL_SCOPE, "strategy:3"}


def test_equity_samples_round_trip_and_prune(engine: Engine, clock) -> None:
    repo = TradingStateRepository(engine, clock)
    t0 = clock.now()
    for i, eq in enumerate((1000.0, 1100.0, 900.0)):
        repo.record_equity({GLOBAL_SCOPE: eq, "strategy:1": eq / 10}, t0 + timedelta(hours=i))
    got = repo.equity_since(GLOBAL_SCOPE, t0 + timedelta(hours=1))
    ms = int(t0.timestamp() * 1000)
    assert got == [EquitySample(ms + 3_600_000, 1100.0), EquitySample(ms + 7_200_000, 900.0)]
    halts = KillSwitch(KillSwitchSection(), warm_ms=ms - 86_400_000).evaluate(
        ms + 7_200_000, repo.equity_since(GLOBAL_SCOPE, t0), [StrategyEquity(1, 100.0, repo.equity_since("strategy:1", t0))],
        repo.all())
    assert [h.scope for h in halts] == [GLOBAL_SCOPE, "strategy:1"]  # 18.2 % drawdown; 10 of 100 lost
    assert repo.prune_equity(t0 + timedelta(hours=1)) == 2
    assert len(repo.equity_since(GLOBAL_SCOPE, t0)) == 2


def test_refusals_and_halts_are_strategy_events(engine: Engine, strategies, clock) -> None:
    sid = strategies.add(StrategyCandidate("Strategy_MOM_0000abcd", StrategyType.MOM, StrategySource.USER, "x", "h1"))
    ctx = EntryContext(sid, "BTC", "1h", OrderSide.BUY, 1000.0, 0.02, 100.0, Market("BTC", 3, 50.0),
                       Balance("sub", 1000.0, 300.0, 700.0), 0, 0, 60_000)
    verdict = check_entry(ctx, RiskSection())
    halt = Halt(strategy_scope(sid), REDUCING, "kill:strategy_session_loss", "lost 11 %")
    repo = TradingStateRepository(engine, clock)
    with engine.begin() as conn:
        strategies.event_in(conn, **refusal_event(ctx, verdict))
        assert repo.escalate_in(conn, halt)
        strategies.event_in(conn, **halt_event(halt))
    kill, refusal = strategies.events(2)
    assert (kill["reason"], kill["phase"], kill["strategy_id"]) == ("kill:strategy_session_loss", "kill_switch", sid)
    assert kill["detail"] == "REDUCING: lost 11 %"
    assert (refusal["reason"], refusal["phase"]) == ("risk:margin", "executor")
    assert "refused: margin 700.00 USD in use + 100.00 USD for this entry = 80.0%" in refusal["detail"]
    assert repo.get(strategy_scope(sid)).state is REDUCING
