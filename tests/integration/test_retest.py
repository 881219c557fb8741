"""Re-test role on SQLite: oldest due first, a failed gate retires, a pass keeps and updates.

The strategy "code" is run by a fake sandbox (deterministic periodic signals) over synthetic
candles in a real Parquet store: entries on bar ``i`` with ``i % period == offset``; the
candles rise 1 % on every bar ``i % 10 == 4``, so ``period=10, offset=3`` has a real edge.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sixbtc.adapters.storage.tables import BacktestResultRow
from sixbtc.app.container import Container
from sixbtc.app.factory_roles import count_due_retests, retest_one
from sixbtc.app.home import Home
from sixbtc.app.window import CycleWindow
from sixbtc.app.workers import backtest_roles
from sixbtc.config import load_settings
from sixbtc.core.clock import SimClock
from sixbtc.domain.strategy import StrategyCandidate, StrategySource, StrategyStatus, StrategyType

NOW = datetime(2026, 3, 1, tzinfo=UTC)
T0 = pd.Timestamp("2025-06-01", tz="UTC")
HOUR = pd.Timedelta(hours=1)
GOOD = {"period": 10, "offset": 3, "sl_pct": 0.0, "tp_pct": 0.0}
SPARSE = {"period": 1000, "offset": 999, "sl_pct": 0.0, "tp_pct": 0.0}
CONFIG = """
backtest:
  warmup_bars: 100
  min_trades: 5
  fee_rate: 0.0
  slippage_bps: 0.0
  shuffle_permutations: 0
  plausible_max_sharpe: 1000  # the planted edge (zero costs) is far above any real strategy:
  plausible_rate_sharpe: 1000  # the plausibility gate is tested in tests/unit/backtester
active_pool:
  min_score: 0
retest:
  interval_days: 3
risk:
  sizing: equity  # these strategies trade without a stop (sl_pct 0), which risk sizing (the default) cannot size
"""


def candles(seed: int, n: int = 1500) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ret = rng.normal(0.0, 0.004, n)
    ret[np.arange(n) % 10 == 4] += 0.01
    close = 100.0 * np.cumprod(1.0 + ret)
    open_ = np.concatenate(([100.0], close[:-1]))
    return pd.DataFrame({"timestamp": T0 + HOUR * np.arange(n), "open": open_, "high": np.maximum(open_, close) * 1.001,
                         "low": np.minimum(open_, close) * 0.999, "close": close, "volume": np.full(n, 1e6)})


class FakeSandbox:
    """Stands in for :class:`StrategySandbox`: ``load`` returns a long 1h spec."""

    def __init__(self) -> None:
        self.loaded: list[str] = []

    def load(self, code: str) -> Any:
        self.loaded.append(code)
        return SimpleNamespace(direction=SimpleNamespace(sign=1), timeframes=("1h",))

    def signals(self, data: dict[str, np.ndarray], params_list: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        idx = np.arange(len(data["close"]))
        entries = np.stack([(idx % p["period"]) == p["offset"] for p in params_list])
        exits = np.roll(entries, 1, axis=1)
        exits[:, 0] = False
        return entries, exits


def _active(c: Container, i: int, params: dict[str, Any], backtested: datetime) -> int:
    sid = c.strategies.add(StrategyCandidate(name=f"Strategy_MOM_{i:06d}", type=StrategyType.MOM,
                                             source=StrategySource.TEMPLATE, code=f"# strategy {i}\n",
                                             code_hash=f"{i:064x}", genome={"i": i}))
    rec = c.strategies.claim(StrategyStatus.GENERATED, "setup")
    c.strategies.transition(sid, rec.claim_token, StrategyStatus.VALIDATED, phase="validator", reason="test")
    rec = c.strategies.claim(StrategyStatus.VALIDATED, "setup")
    c.pool.try_enter(sid, rec.claim_token, 50.0, max_size=10, min_score=0, params=params, timeframe="1h",
                     symbols=["C0"], metrics={"fingerprint": f"f{i}"}, last_backtested_at=backtested)
    return sid


@pytest.fixture()
def setup(tmp_path: Path) -> tuple[Container, dict[str, int], CycleWindow]:
    home = Home(tmp_path)
    home.ensure().config_path.write_text(CONFIG)
    c = Container(home, load_settings(home.config_path), SimClock(NOW))
    for k in range(3):
        c.store.write_candles(f"C{k}", "1h", candles(seed=k), is_full_history=True)
    ids = {"good_oldest": _active(c, 1, GOOD, NOW - timedelta(days=10)),
           "sparse": _active(c, 2, SPARSE, NOW - timedelta(days=5)),
           "good_recent": _active(c, 3, GOOD, NOW - timedelta(days=1))}
    window = CycleWindow(T0 + 100 * HOUR, T0 + 1000 * HOUR, T0 + 1400 * HOUR, T0 + 1500 * HOUR)
    return c, ids, window


def test_retest_oldest_first_retires_failures_and_keeps_passes(setup) -> None:
    c, ids, window = setup
    symbols = {"1h": ["C0", "C1", "C2"]}
    box = FakeSandbox()
    assert count_due_retests(c) == 2
    assert retest_one(c, box, window, "w1", symbols)
    assert box.loaded == ["# strategy 1\n"]  # the oldest last_backtested_at first
    kept = c.strategies.get(ids["good_oldest"])
    assert kept.status is StrategyStatus.ACTIVE
    assert kept.last_backtested_at.replace(tzinfo=UTC) == NOW
    assert kept.params == GOOD and kept.metrics["fingerprint"] == "f1"
    assert kept.metrics["retest"]["wfa_consistency"] == 1.0 and kept.metrics["retest"]["trials"] > 0
    assert kept.score == pytest.approx(kept.metrics["retest"]["score"]) and kept.score != 50.0

    assert retest_one(c, box, window, "w1", symbols)
    retired = c.strategies.get(ids["sparse"])
    assert retired.status is StrategyStatus.RETIRED
    last = c.strategies.events(limit=1)[0]
    assert (last["strategy_id"], last["to_status"], last["reason"]) == (ids["sparse"], "RETIRED", "retest:too_few_trades")

    assert not retest_one(c, box, window, "w1", symbols)  # the third was backtested a day ago: not due
    assert c.strategies.get(ids["good_recent"]).last_backtested_at.replace(tzinfo=UTC) == NOW - timedelta(days=1)
    with c.engine.connect() as conn:
        kinds = conn.execute(BacktestResultRow.__table__.select().with_only_columns(
            BacktestResultRow.kind, BacktestResultRow.strategy_id)).all()
    assert {k for k, sid in kinds if sid == ids["good_oldest"]} == {"retest"}
    assert all(sid == ids["good_oldest"] for _, sid in kinds)


def test_retest_on_the_clock_makes_everything_due_again(setup) -> None:
    c, _, window = setup
    c.clock.advance_to(NOW + timedelta(days=30))
    assert count_due_retests(c) == 3
    box = FakeSandbox()
    done = 0
    while retest_one(c, box, window, "w1", {"1h": ["C0", "C1", "C2"]}):
        done += 1
    assert done == 3 and count_due_retests(c) == 0
    assert box.loaded == ["# strategy 1\n", "# strategy 2\n", "# strategy 3\n"]


def test_backtest_roles_cap_at_the_cpu_count_keeping_elastic_first() -> None:
    assert backtest_roles(4, 1, cpus=2) == ["elastic", "backtester"]
    assert backtest_roles(4, 1, cpus=8) == ["elastic"] + ["backtester"] * 4
    assert backtest_roles(4, 0, cpus=1) == ["backtester"]
    assert backtest_roles(1, 2, cpus=1) == ["elastic"]
    with pytest.raises(ValueError, match="backtest.workers"):
        backtest_roles(0, 1, cpus=2)
