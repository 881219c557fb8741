"""SafetyPass: equity samples from the venue, kill switches stored with their events, and
permissions that follow a HALTED state written by another process (emergency-stop)."""

from __future__ import annotations

from pathlib import Path

from sixbtc.app.container import Container
from sixbtc.app.emergency import emergency_stop
from sixbtc.app.home import Home
from sixbtc.app.safety import SafetyPass
from sixbtc.domain.risk import GLOBAL_SCOPE, TradingState
from sixbtc.domain.strategy import StrategyCandidate, StrategySource, StrategyType
from sixbtc.testing.fake_exchange import FakeExchange

MIN = 60_000
T0 = 1_750_000_000_000 - 1_750_000_000_000 % 86_400_000 + 3_600_000  # 01:00 UTC


def test_kill_switch_after_grace_then_emergency_halt_reaches_the_pass(tmp_path: Path) -> None:
    c = Container.open(Home(tmp_path))
    sid = c.strategies.add(StrategyCandidate("Strategy_MOM_000000aa", StrategyType.MOM, StrategySource.USER, "x", "h"))
    other = c.strategies.add(StrategyCandidate("Strategy_MOM_000000bb", StrategyType.MOM, StrategySource.USER, "y", "i"))
    v = FakeExchange({}, {})
    v.add_subaccount("a", 100.0)
    v.add_subaccount("b", 100.0)
    alerts = []
    safety = SafetyPass(c, v, warm_ms=T0, alert=alerts.append)
    subs = {sid: ("a", 100.0), other: ("b", 100.0)}
    perms = safety.run(T0, subs)
    assert perms.state_of(sid) is TradingState.ACTIVE and perms.allows(sid, reduce_only=False)
    v.accounts["a"].cash_usd = 88.0  # strategy sid loses 12 % of its capital; all: 200 -> 188 = 6 %
    assert safety.run(T0 + 30 * MIN, subs).halts == ()  # grace: 60 min after warm-up
    perms = safety.run(T0 + 61 * MIN, subs)
    assert [h.reason for h in perms.halts] == ["kill:strategy_session_loss"] and len(alerts) == 1
    assert perms.state_of(sid) is TradingState.REDUCING and perms.allows(sid, reduce_only=True)
    assert not perms.allows(sid, reduce_only=False) and perms.allows(other, reduce_only=False)
    assert c.strategies.events(1)[0]["reason"] == "kill:strategy_session_loss"
    assert safety.run(T0 + 62 * MIN, subs).halts == ()  # stored: not halted twice
    emergency_stop(c.trading_states, c.strategies, lambda: v, close_positions=False, who="test", sleep=lambda s: None)  # "another process"
    perms = safety.run(T0 + 63 * MIN, subs)
    assert perms.global_state is TradingState.HALTED and not perms.allows(other, reduce_only=True)
    assert c.trading_states.get(GLOBAL_SCOPE).reason == "emergency_stop"
