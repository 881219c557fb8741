"""The regime use case on a home's store: readings stored before the replay window, refreshed
daily, and given to the unger source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from sixbtc.app.container import Container
from sixbtc.app.generation import generate_batch
from sixbtc.app.home import Home
from sixbtc.app.regimes import coin_regimes, refresh_if_due
from sixbtc.app.window import plan_window
from sixbtc.config import load_settings
from sixbtc.core.clock import SimClock
from sixbtc.domain.strategy import StrategyStatus, StrategyType

T0 = pd.Timestamp("2025-01-01", tz="UTC")
N = 3000  # 125 days of 1h bars


def ar_frame(phi: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    noise, r = rng.normal(0, 0.01, N), np.zeros(N)
    for i in range(1, N):
        r[i] = phi * r[i - 1] + noise[i]
    close = np.round(100 * np.exp(np.cumsum(r)), 4)
    open_ = np.r_[close[0], close[:-1]]
    return pd.DataFrame({"timestamp": T0 + pd.Timedelta(hours=1) * np.arange(N), "open": open_,
                         "high": np.maximum(open_, close) * 1.001, "low": np.minimum(open_, close) * 0.999,
                         "close": close, "volume": np.full(N, 1000.0)})


def home_with(tmp_path, coins: dict[str, float]) -> Container:
    home = Home(tmp_path).ensure()
    now = (T0 + pd.Timedelta(hours=N + 1)).to_pydatetime()
    c = Container(home, load_settings(home.config_path), clock=SimClock(now))
    c.settings.backtest.timeframes = ["1h"]
    for i, (symbol, phi) in enumerate(coins.items()):
        c.store.write_candles(symbol, "1h", ar_frame(phi, i))
    return c


def test_readings_per_coin_end_where_the_replay_starts_and_refresh_daily(tmp_path):
    c = home_with(tmp_path, {"TRND": 0.3, "REVT": -0.3})
    readings = refresh_if_due(c)
    window = plan_window(c.store, c.settings, c.clock)
    assert {r.symbol: str(r.regime) for r in readings} == {"TRND": "TREND", "REVT": "REVERSAL"}
    for r in readings:
        assert r.window_end == window.replay_start.to_pydatetime()
        assert r.window_start == (window.replay_start - pd.Timedelta(days=90)).to_pydatetime()
    assert coin_regimes(c) == {"TRND": "TREND", "REVT": "REVERSAL"}
    assert refresh_if_due(c) is None  # computed less than a day ago
    c.clock.advance_to(c.clock.now() + timedelta(days=1))
    assert len(refresh_if_due(c)) == 2
    c.settings.regime.enabled = False
    assert refresh_if_due(c) is None and coin_regimes(c) == {}


def test_unger_draws_fit_the_stored_regimes(tmp_path):
    c = home_with(tmp_path, {"AAA": 0.3, "BBB": 0.3})  # two trending coins
    refresh_if_due(c)
    assert set(coin_regimes(c).values()) == {"TREND"}
    c.settings.generator.sources = ["unger"]
    created, _ = generate_batch(c, 40, np.random.default_rng(4))
    types = {s.type for s in c.strategies.list_by_status(StrategyStatus.GENERATED)}
    assert created == 40 and StrategyType.REV not in types  # uniform draws: P(no REV in 40) ~ 1e-4
    assert types <= {StrategyType.BRK, StrategyType.MOM, StrategyType.TRN, StrategyType.VOL}


@pytest.mark.parametrize("now_shift", [timedelta(hours=23)])
def test_a_reading_younger_than_a_day_is_not_recomputed(tmp_path, now_shift):
    c = home_with(tmp_path, {"TRND": 0.3})
    assert refresh_if_due(c)
    c.clock.advance_to(c.clock.now() + now_shift)
    assert refresh_if_due(c) is None
    assert c.regimes.last_computed_at() == c.clock.now() - now_shift
    assert isinstance(c.regimes.last_computed_at(), datetime) and c.regimes.last_computed_at().tzinfo == UTC


def test_the_service_schedules_the_daily_refresh_at_0105_utc(tmp_path):
    from sixbtc.app.service import Service

    c = home_with(tmp_path, {"TRND": 0.3})
    job = Service(c, print)._scheduler().get_job("task:refresh_market_regimes")  # a scheduled task (SPEC §3.9)
    assert job is not None
    fields = {f.name: str(f) for f in job.trigger.fields}
    assert (fields["hour"], fields["minute"], str(job.trigger.timezone)) == ("1", "5", "UTC")
    c.settings.scheduler.refresh_market_regimes.enabled = False
    assert Service(c, print)._scheduler().get_job("task:refresh_market_regimes") is None
