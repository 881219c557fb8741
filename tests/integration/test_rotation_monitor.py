"""Monitor and rotator on SQLite: a LIVE strategy whose paper trades leave its Monte Carlo band
is retired, and the rotator refills the slot with an uncorrelated candidate, skipping a
correlated one (SPEC §3.6, §3.8, §5).

Records are built with the repositories directly. The strategies' ``metrics`` carry no backtest
expectancy, so the degradation rule stays out of the way; ``retirement.min_score`` is 0 so the
live score cannot retire anyone either — only the band can.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sixbtc.app.container import Container
from sixbtc.app.home import Home
from sixbtc.app.status import status_report
from sixbtc.app.trading import live_psr, monitor_now, rotate_now
from sixbtc.config import load_settings
from sixbtc.core.clock import SimClock
from sixbtc.domain.strategy import StrategyCandidate, StrategySource, StrategyStatus, StrategyType
from sixbtc.domain.trading import Direction, ExitReason, Trade, TradeMode

NOW = datetime(2026, 3, 1, tzinfo=UTC)
OOS_END = NOW - timedelta(days=30)
CONFIG = """
rotator:
  max_live_strategies: 2
  max_correlation: 0.7
  min_paper_days: 5
retirement:
  min_trades: 10
  min_score: 0
"""
RNG = np.random.default_rng(11)
DAILY_Y = RNG.normal(0.0, 0.01, 60)


def _active(c: Container, i: int, type_: StrategyType, score: float, daily: np.ndarray,
            trades: np.ndarray | None) -> int:
    sid = c.strategies.add(StrategyCandidate(name=f"Strategy_{type_}_{i:06d}", type=type_, source=StrategySource.TEMPLATE,
                                             code=f"# strategy {i}\n", code_hash=f"{i:064x}", genome={"i": i}))
    rec = c.strategies.claim(StrategyStatus.GENERATED, "setup")
    c.strategies.transition(sid, rec.claim_token, StrategyStatus.VALIDATED, phase="validator", reason="test")
    rec = c.strategies.claim(StrategyStatus.VALIDATED, "setup")
    c.pool.try_enter(sid, rec.claim_token, score, max_size=10, min_score=0, params={"p": i}, timeframe="1h",
                     symbols=["BTC"], last_backtested_at=NOW,
                     metrics={"direction": "long", "confirm": {"total_return": 0.01, "twin_percentile": 80.0}})
    oos: dict[str, Any] = {"daily_returns": daily.tolist(), "n_trades": 200.0}
    if trades is not None:
        oos["trade_returns"] = trades.tolist()
    c.results.add_many(sid, "first", [
        {"timeframe": "1h", "symbol": None, "params": {"p": i}, "is_metrics": {}, "oos_metrics": oos,
         "score": score, "equity_curve": None, "data_start": OOS_END - timedelta(days=180), "data_end": OOS_END}])
    return sid


def _paper_trades(c: Container, sid: int, returns: list[float]) -> None:
    label = c.trading.subaccount_of(sid)["label"]
    for k, r in enumerate(returns):
        entry, exit_ = NOW + timedelta(hours=2 * k), NOW + timedelta(hours=2 * k + 1)
        coid = f"{sid}-{k}"
        order = {"client_order_id": f"e{coid}", "strategy_id": sid, "subaccount": label, "symbol": "BTC",
                 "side": "buy", "order_type": "market", "qty": 0.001, "price": None, "reduce_only": False,
                 "mode": "paper", "filled_price": 100_000.0, "filled_ts": entry}
        pos = c.trading.open_position(order, {
            "strategy_id": sid, "subaccount": label, "symbol": "BTC", "timeframe": "1h", "direction": "long",
            "qty": 0.001, "entry_price": 100_000.0, "entry_ts": entry, "entry_fee_usd": 0.0, "stop_price": 90_000.0,
            "target_price": 110_000.0, "mode": "paper", "entry_client_order_id": f"e{coid}"})
        trade = Trade(sid, "BTC", "1h", Direction.LONG, entry, 100_000.0, exit_, 100_000.0 * (1 + r), 0.001, 100.0,
                      0.0, 100.0 * r, r, ExitReason.SIGNAL, TradeMode.PAPER)
        exit_order = dict(order, client_order_id=f"x{coid}", side="sell", reduce_only=True, filled_ts=exit_)
        assert c.trading.close_position(pos, exit_order, trade, 100.0 * r)


@pytest.fixture()
def world(tmp_path: Path) -> tuple[Container, dict[str, int]]:
    home = Home(tmp_path)
    home.ensure().config_path.write_text(CONFIG)
    c = Container(home, load_settings(home.config_path), SimClock(NOW))
    ids = {
        # backtest: +1 % per trade on average; its paper trades will lose
        "x": _active(c, 1, StrategyType.MOM, 90.0, RNG.normal(0.0, 0.01, 60), RNG.normal(0.01, 0.01, 200)),
        "y": _active(c, 2, StrategyType.REV, 85.0, DAILY_Y, RNG.normal(0.005, 0.01, 200)),
        # same daily returns as y plus small noise: correlation ~0.99
        "c1": _active(c, 3, StrategyType.TRN, 80.0, DAILY_Y + RNG.normal(0.0, 0.001, 60), RNG.normal(0.005, 0.01, 200)),
        # independent daily returns; an older row without trade_returns
        "c2": _active(c, 4, StrategyType.BRK, 70.0, RNG.normal(0.0, 0.01, 60), None),
    }
    return c, ids


def _status(c: Container, sid: int) -> StrategyStatus:
    return c.strategies.get(sid).status


def test_monitor_retires_outside_band_and_rotator_refills_with_uncorrelated(world) -> None:
    c, ids = world
    assert sorted(p.strategy_id for p in rotate_now(c)) == sorted([ids["x"], ids["y"]])

    _paper_trades(c, ids["x"], [-0.004, -0.006] * 6)    # sum -6 %; band P5 for 12 trades is about +6 %
    _paper_trades(c, ids["y"], [0.015, -0.005] * 6)     # sum +6 %, near y's backtest expectation
    c.clock.advance_to(NOW + timedelta(days=2))
    verdicts = {rec.id: v for rec, v, _ in monitor_now(c)}

    assert (verdicts[ids["x"]].retire, verdicts[ids["x"]].reason) == (True, "monitor:outside_mc_band")
    assert "cumulative return -6.00% after 12 trades < P5" in verdicts[ids["x"]].detail
    assert (verdicts[ids["y"]].retire, verdicts[ids["y"]].reason) == (False, "monitor:ok")
    assert _status(c, ids["x"]) is StrategyStatus.RETIRED and c.trading.subaccount_of(ids["x"]) is None
    event = next(e for e in c.strategies.events(10) if e["strategy_id"] == ids["x"])
    assert (event["from_status"], event["to_status"], event["phase"], event["reason"]) == \
        ("LIVE", "RETIRED", "monitor", "monitor:outside_mc_band")

    live_y = c.strategies.get(ids["y"]).metrics["live"]
    assert live_y["n_trades"] == 12 and live_y["cum_return"] == pytest.approx(0.06)
    assert 0.0 < live_y["psr"] < 1.0 and live_y["mc_lower_return"] < 0.06
    assert live_y["paper_days"] == pytest.approx(2.0) and live_y["incubated"] is False  # min_paper_days 5
    assert c.strategies.get(ids["x"]).metrics["live"]["verdict"] == "monitor:outside_mc_band"

    promoted = rotate_now(c)
    assert [p.strategy_id for p in promoted] == [ids["c2"]]  # c1 scores higher but copies y
    assert _status(c, ids["c1"]) is StrategyStatus.ACTIVE and _status(c, ids["c2"]) is StrategyStatus.LIVE
    last = status_report(c)["last_events"][0]
    assert (last["to"], last["reason"]) == ("LIVE", "rotator:promoted")


def test_older_backtest_rows_skip_band_and_psr_and_say_so(world) -> None:
    c, ids = world
    rotate_now(c)
    c.strategies.transition(ids["x"], None, StrategyStatus.RETIRED, phase="test", reason="test:free_slot")
    c.trading.free_subaccount(ids["x"])
    rotate_now(c)
    assert _status(c, ids["c2"]) is StrategyStatus.LIVE
    _paper_trades(c, ids["c2"], [-0.004, -0.006] * 6)  # would leave any band of a winning backtest
    [(rec, verdict, _)] = [t for t in monitor_now(c) if t[0].id == ids["c2"]]
    assert (verdict.retire, verdict.reason) == (False, "monitor:ok")
    assert "no backtest trade_returns" in verdict.detail and "PSR n/a" in verdict.detail
    assert "psr" in c.strategies.get(ids["c2"]).metrics["live"]


def test_live_psr_against_the_backtest_sharpe() -> None:
    bt = np.array([0.02, -0.01, 0.015, -0.005, 0.01])
    psr, note = live_psr(bt.copy(), bt)
    assert (psr, note) == (pytest.approx(0.5), "")          # same Sharpe as the backtest
    better, _ = live_psr(bt + 0.01, bt)
    worse, _ = live_psr(bt - 0.01, bt)
    assert worse < 0.5 < better
    flat, why = live_psr(np.full(5, 0.01), bt)
    assert flat is None and "constant" in why
    none, why = live_psr(np.array([0.01]), bt)
    assert none is None and "live trades" in why and ">= 2" in why


def _damage_backtest_row(c: Container, sid: int, **oos: Any) -> None:
    """Overwrite the strategy's stored OOS figures (a record damaged by hand or an old version)."""
    from sqlalchemy import update

    from sixbtc.adapters.storage.tables import BacktestResultRow
    row = c.results.for_strategy(sid)[-1]
    with c.engine.begin() as conn:
        conn.execute(update(BacktestResultRow).where(BacktestResultRow.id == row["id"])
                     .values(oos_metrics=dict(row["oos_metrics"], **oos)))


def test_one_unreadable_live_record_never_stops_the_monitor(world) -> None:
    c, ids = world
    rotate_now(c)
    _damage_backtest_row(c, ids["x"], trade_returns=["not", "a", "number"])
    _paper_trades(c, ids["x"], [0.01] * 3)
    _paper_trades(c, ids["y"], [0.01] * 3)

    judged = {rec.id for rec, _, _ in monitor_now(c)}  # before the fix: ValueError for everyone

    assert judged == {ids["y"]}
    assert "live" in c.strategies.get(ids["y"]).metrics
    assert _status(c, ids["x"]) is StrategyStatus.LIVE  # an unreadable record is not a verdict
    event = next(e for e in c.strategies.events(10) if e["strategy_id"] == ids["x"])
    assert (event["phase"], event["reason"]) == ("monitor", "monitor:error") and "ValueError" in event["detail"]


def test_one_unreadable_candidate_never_stops_the_rotator(world) -> None:
    c, ids = world
    _damage_backtest_row(c, ids["x"], daily_returns=["x", "y", "z"])

    promoted = {p.strategy_id for p in rotate_now(c)}  # before the fix: ValueError, nobody promoted

    assert ids["y"] in promoted and len(promoted) == 2
    event = next(e for e in c.strategies.events(20) if e["strategy_id"] == ids["x"] and e["phase"] == "rotator"
                 and e["reason"] == "rotator:error")
    assert "daily returns unreadable" in event["detail"]


class _SubaccountsFailFor:
    """The container's trading repository, failing to give ``sid`` a sub-account (a database
    error, a process killed between the two writes)."""

    def __init__(self, inner: Any, sid: int) -> None:
        self.inner, self.sid = inner, sid

    def assign_subaccount_in(self, conn: Any, strategy_id: int, *args: Any) -> str:
        if strategy_id == self.sid:
            raise RuntimeError("disk I/O error")
        return self.inner.assign_subaccount_in(conn, strategy_id, *args)

    def assign_subaccount(self, strategy_id: int, *args: Any) -> str:
        if strategy_id == self.sid:
            raise RuntimeError("disk I/O error")
        return self.inner.assign_subaccount(strategy_id, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_promotion_and_its_sub_account_are_written_together(world) -> None:
    c, ids = world
    c.__dict__["trading"] = _SubaccountsFailFor(c.trading, ids["x"])

    promoted = {p.strategy_id for p in rotate_now(c)}

    # before the fix x stayed LIVE without a sub-account: a LIVE slot taken, never traded
    assert ids["x"] not in promoted and _status(c, ids["x"]) is StrategyStatus.ACTIVE
    assert c.trading.subaccount_of(ids["x"]) is None
    assert ids["y"] in promoted and c.trading.subaccount_of(ids["y"]) is not None
    event = next(e for e in c.strategies.events(20) if e["strategy_id"] == ids["x"] and e["phase"] == "rotator")
    assert event["reason"] == "rotator:error" and "disk I/O error" in event["detail"]


class _FreeingFailsOnce:
    """The container's trading repository; freeing a sub-account fails once (a database error,
    a process killed between the retirement and the freeing)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.failures = inner, 1

    def _fail(self) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("disk I/O error")

    def free_subaccount_in(self, conn: Any, strategy_id: int) -> bool:
        self._fail()
        return self.inner.free_subaccount_in(conn, strategy_id)

    def free_subaccount(self, strategy_id: int) -> bool:
        self._fail()
        return self.inner.free_subaccount(strategy_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_retirement_and_its_freed_sub_account_are_written_together(world) -> None:
    c, ids = world
    rotate_now(c)
    _paper_trades(c, ids["x"], [-0.004, -0.006] * 6)  # leaves its band (see the first test)
    c.__dict__["trading"] = _FreeingFailsOnce(c.trading)

    monitor_now(c)
    # before the fix x was RETIRED with its sub-account still attached: never freed (the
    # executor runs no retired strategy that holds nothing), the slot's money lost to the rotator
    assert _status(c, ids["x"]) is StrategyStatus.LIVE and c.trading.subaccount_of(ids["x"]) is not None
    monitor_now(c)
    assert _status(c, ids["x"]) is StrategyStatus.RETIRED and c.trading.subaccount_of(ids["x"]) is None


def test_the_band_switched_off_or_unbuildable_is_skipped_and_said(world) -> None:
    c, ids = world
    rotate_now(c)
    _paper_trades(c, ids["x"], [-0.004, -0.006] * 6)  # outside its band (see the first test)
    off = Container(c.home, c.settings.model_copy(update={"retirement": c.settings.retirement.model_copy(
        update={"mc_paths": 0})}), c.clock)
    [(_, verdict, _)] = [t for t in monitor_now(off) if t[0].id == ids["x"]]
    assert (verdict.retire, verdict.reason) == (False, "monitor:ok") and "Monte Carlo band off (mc_paths 0)" in verdict.detail
    assert "mc_lower_return" not in c.strategies.get(ids["x"]).metrics["live"]
    _damage_backtest_row(c, ids["x"], trade_returns=[0.01])  # one backtest trade: no band can be drawn
    [(_, verdict, _)] = [t for t in monitor_now(c) if t[0].id == ids["x"]]
    assert "Monte Carlo band skipped: trade_returns must be 1-D with >= 2 trades" in verdict.detail
