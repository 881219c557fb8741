"""Kill switches (executor/kill_switch.py) on hand-computed equity windows."""

from __future__ import annotations

from datetime import UTC, datetime

from sixbtc.config.sections import KillSwitchSection
from sixbtc.domain.risk import (
    GLOBAL_SCOPE,
    TradingState,
    TradingStateRecord,
    effective_state,
    escalates,
    strategy_scope,
)
from sixbtc.executor.kill_switch import (
    EquitySample,
    KillSwitch,
    StrategyEquity,
    halt_event,
    session_loss,
    session_start_ms,
    window_drawdown,
)

H = 3_600_000
DAY0 = int(datetime(2026, 3, 2, tzinfo=UTC).timestamp() * 1000)  # a midnight UTC
CFG = KillSwitchSection()  # 10 % session loss, 15 % drawdown in 24 h, 60 min grace


def series(*points: tuple[float, float]) -> list[EquitySample]:
    """(hours after DAY0, equity)."""
    return [EquitySample(DAY0 + int(h * H), e) for h, e in points]


def test_window_drawdown_is_peak_to_later_trough_inside_the_window() -> None:
    s = series((0, 1000), (2, 1200), (3, 900), (5, 1100), (6, 1000))
    assert window_drawdown(s, DAY0) == 0.25  # 1200 -> 900
    assert window_drawdown(s, DAY0 + 3 * H) == (1100 - 1000) / 1100  # the 1200 peak is out of the window
    rising = series((0, 100), (1, 200))
    assert window_drawdown(rising, DAY0) == 0.0
    trough_before_peak = series((0, 1000), (1, 700), (2, 1300))  # the fall is before the window start
    assert window_drawdown(trough_before_peak, DAY0 + H) == 0.0
    assert window_drawdown([], DAY0) == 0.0


def test_session_loss_from_the_first_sample_of_the_session() -> None:
    s = series((-3, 500), (1, 1000), (4, 950), (8, 890))
    assert session_loss(s, DAY0, 1000.0) == (1000 - 890) / 1000  # 0.11; the sample of the day before is out
    assert session_loss(s, DAY0 + 9 * H, 1000.0) == 0.0
    assert session_loss(s, DAY0, 0.0) == 0.0
    assert session_loss(series((0, 900), (1, 1000)), DAY0, 1000.0) == -0.1  # a gain


def test_session_starts_at_midnight_or_when_resumed() -> None:
    now = DAY0 + 10 * H
    assert session_start_ms(now, None) == DAY0
    resumed = TradingStateRecord("strategy:1", TradingState.ACTIVE, "resume", "", _dt(DAY0 + 5 * H))
    assert session_start_ms(now, resumed) == DAY0 + 5 * H
    yesterday = TradingStateRecord("strategy:1", TradingState.ACTIVE, "resume", "", _dt(DAY0 - 5 * H))
    assert session_start_ms(now, yesterday) == DAY0


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def test_global_drawdown_fires_after_the_grace_only() -> None:
    warm = DAY0 + 1 * H
    ks = KillSwitch(CFG, warm_ms=warm)
    g = series((0, 10_000), (1.5, 10_400), (1.9, 8_800))  # 15.38 % from the 10,400 peak
    assert ks.in_grace(DAY0 + int(1.9 * H))
    assert ks.evaluate(DAY0 + int(1.9 * H), g, [], {}) == []  # grace: warm-up + 60 min
    halts = ks.evaluate(warm + 60 * 60_000, g, [], {})
    assert [(h.scope, h.state, h.reason) for h in halts] == [(GLOBAL_SCOPE, TradingState.REDUCING,
                                                              "kill:global_drawdown_24h")]
    assert "15.38%" in halts[0].detail
    # the grace only delays: samples taken during it (and before the start) still count
    assert ks.evaluate(DAY0 + 3 * H, series((0, 10_000), (0.5, 8_000), (2.5, 8_000)), [], {})


def test_global_window_slides_and_restarts_at_a_resume() -> None:
    ks = KillSwitch(CFG, warm_ms=DAY0 - 10 * H)
    g = series((0, 10_000), (1, 8_000), (30, 8_100))
    assert ks.evaluate(DAY0 + 2 * H, g, [], {})  # 20 % within 24 h
    assert ks.evaluate(DAY0 + 25 * H, g, [], {}) == []  # the fall left the window (from hour 1)
    resumed = {GLOBAL_SCOPE: TradingStateRecord(GLOBAL_SCOPE, TradingState.ACTIVE, "resume", "", _dt(DAY0 + H))}
    assert ks.evaluate(DAY0 + 2 * H, g, [], resumed) == []  # the peak was before the resume
    reducing = {GLOBAL_SCOPE: TradingStateRecord(GLOBAL_SCOPE, TradingState.REDUCING, "kill", "", _dt(DAY0))}
    assert ks.evaluate(DAY0 + 2 * H, g, [], reducing) == []  # already reducing: no second halt
    at_limit = series((0, 1000), (1, 850))  # exactly 15 %: fires (">= limit")
    assert ks.evaluate(DAY0 + 2 * H, at_limit, [], {})


def test_strategy_session_loss_halts_that_strategy_only() -> None:
    ks = KillSwitch(CFG, warm_ms=DAY0 - 10 * H)
    losing = StrategyEquity(2, 100.0, series((0, 100.0), (3, 95.0), (5, 90.0)))  # 10 of 100
    fine = StrategyEquity(1, 100.0, series((0, 100.0), (5, 91.0)))  # 9 of 100
    halts = ks.evaluate(DAY0 + 6 * H, [], [losing, fine], {})
    assert [(h.scope, h.reason) for h in halts] == [(strategy_scope(2), "kill:strategy_session_loss")]
    assert "lost 10.00%" in halts[0].detail
    event = halt_event(halts[0])
    assert event is not None and event["strategy_id"] == 2 and event["phase"] == "kill_switch"
    assert event["detail"].startswith("REDUCING: strategy 2 lost")
    # a new UTC day is a new session
    assert ks.evaluate(DAY0 + 25 * H, [], [StrategyEquity(2, 100.0, series((0, 100.0), (24.5, 90.0), (25, 89.0)))],
                       {}) == []
    halted = {strategy_scope(2): TradingStateRecord(strategy_scope(2), TradingState.HALTED, "x", "", _dt(DAY0))}
    assert ks.evaluate(DAY0 + 6 * H, [], [losing], halted) == []


def test_state_vocabulary() -> None:
    A, R, X = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED
    assert effective_state(A, R) is R and effective_state(X, A) is X and effective_state() is A
    assert escalates(A, R) and escalates(R, X) and not escalates(X, R) and not escalates(R, R)
    assert A.allows(reduce_only=False) and R.allows(reduce_only=True) and not R.allows(reduce_only=False)
    assert not X.allows(reduce_only=True)
    assert halt_event(KillSwitch(CFG, 0).evaluate(DAY0 + 2 * H, series((0, 1000), (1, 800)), [], {})[0]) is None
