"""A small SixBTC home for the API tests: two ACTIVE strategies and one LIVE strategy with a
paper sub-account, an open position and its orders, written through the repositories."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sixbtc.adapters.storage.tables import StrategyRow
from sixbtc.api.app import create_app
from sixbtc.app.container import Container
from sixbtc.app.home import Home
from sixbtc.domain.strategy import StrategyCandidate, StrategySource, StrategyStatus, StrategyType

TOKEN = "test-token-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T = StrategyRow.__table__


def add_active(c: Container, i: int, score: float, stype: StrategyType = StrategyType.MOM) -> int:
    """Store candidate ``i`` and move it GENERATED → VALIDATED → ACTIVE with ``score``."""
    sid = c.strategies.add(StrategyCandidate(f"Strategy_{stype}_{i:08x}", stype, StrategySource.TEMPLATE,
                                             f"class S{i}:\n    pass\n", f"{i:064x}",
                                             genome={"lineage": {"operation": "mutate", "parents": ["P1"],
                                                                 "generation": 1}}))
    rec = c.strategies.claim(StrategyStatus.GENERATED, "t")
    c.strategies.transition(sid, rec.claim_token, StrategyStatus.VALIDATED, phase="validator", reason="test:ok")
    rec = c.strategies.claim(StrategyStatus.VALIDATED, "t")
    c.pool.try_enter(sid, rec.claim_token, score, max_size=10, min_score=0.0, timeframe="1h",
                     symbols=["BTC", "ETH"], params={"sl_pct": 0.02, "tp_pct": 0.04, "n": 14},
                     last_backtested_at=T0,
                     metrics={"sharpe": 1.5, "dsr": 0.97, "pbo": 0.1, "trials": 40, "direction": "long",
                              "confirm": {"total_return": 0.02, "twin_percentile": 80.0}})
    return sid


def promote(c: Container, sid: int) -> str:
    """ACTIVE → LIVE with a paper sub-account, an open BTC position and its filled entry order."""
    with c.engine.begin() as conn:
        c.strategies.transition_in(conn, sid, None, StrategyStatus.LIVE, phase="rotator", reason="test:live",
                                   claim_token=T.c.claim_token + 1)
        label = c.trading.assign_subaccount_in(conn, sid, "paper", 100.0)
    order = {"client_order_id": f"e-{sid}", "strategy_id": sid, "subaccount": label, "symbol": "BTC",
             "timeframe": "1h", "leg": "entry", "side": "buy", "order_type": "market", "qty": 0.01,
             "price": None, "reduce_only": False, "mode": "paper", "filled_price": 50_000.0, "filled_ts": T0}
    position = {"strategy_id": sid, "subaccount": label, "symbol": "BTC", "timeframe": "1h", "direction": "long",
                "qty": 0.01, "entry_price": 50_000.0, "entry_ts": T0, "entry_fee_usd": 0.2,
                "stop_price": 49_000.0, "target_price": 52_000.0, "mode": "paper", "entry_client_order_id": f"e-{sid}"}
    assert c.trading.open_position(order, position) is not None
    return label


@pytest.fixture
def home(tmp_path: Path) -> Container:
    """An opened container over a fresh home: ACTIVE ids 1 and 2, LIVE id 3 (``paper-001``)."""
    c = Container.open(Home(tmp_path))
    add_active(c, 1, 55.0)
    add_active(c, 2, 45.0, StrategyType.REV)
    promote(c, add_active(c, 3, 70.0, StrategyType.TRN))
    return c


@pytest.fixture
def client(home: Container) -> TestClient:
    """A test client of the API over ``home`` (token :data:`TOKEN`, pushes every 0.2 s)."""
    return TestClient(create_app(home, TOKEN, static_dir=None, push_interval_s=0.2))
