"""The ``market_regimes`` table (migration 0004) on SQLite and PostgreSQL: newest reading
per coin and timeframe, computation time from the clock, pruning."""

from __future__ import annotations

from datetime import timedelta

from storage_support import T0

from sixbtc.adapters.storage.regime_repo import RegimeRepository
from sixbtc.domain.regime import MarketRegime, RegimeReading


def _reading(symbol: str, regime: MarketRegime, tf: str = "1h", bo: float = 0.1) -> RegimeReading:
    return RegimeReading(symbol, tf, regime, bo, -bo - 0.2, 42, T0 - timedelta(days=90), T0)


def test_newest_reading_wins_per_symbol_and_timeframe(engine, clock):
    repo = RegimeRepository(engine, clock)
    assert repo.latest() == {} and repo.last_computed_at() is None
    assert repo.add_many([_reading("BTC", MarketRegime.TREND), _reading("ETH", MarketRegime.MIXED),
                          _reading("BTC", MarketRegime.REVERSAL, tf="4h")]) == 3
    first = clock.now()
    clock.advance_to(clock.now() + timedelta(days=1))
    repo.add_many([_reading("BTC", MarketRegime.REVERSAL, bo=-0.3)])
    latest = repo.latest()
    assert {k: str(r.regime) for k, r in latest.items()} == {
        ("BTC", "1h"): "REVERSAL", ("ETH", "1h"): "MIXED", ("BTC", "4h"): "REVERSAL"}
    btc = latest[("BTC", "1h")]
    assert btc.breakout_metric == -0.3 and btc.reversal_metric == 0.3 - 0.2
    assert btc.n_trades == 42 and btc.window_end == T0 and btc.window_start == T0 - timedelta(days=90)
    assert btc.computed_at == clock.now() and latest[("ETH", "1h")].computed_at == first
    assert set(repo.latest("4h")) == {("BTC", "4h")}
    assert repo.last_computed_at() == clock.now()
    assert repo.prune(clock.now()) == 3  # the older computation
    assert set(repo.latest()) == {("BTC", "1h")}
