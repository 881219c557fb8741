"""What the search records for the trial ledger, daily-return grids and their pooling."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sixbtc.backtester.coinset import CoinSeries
from sixbtc.backtester.engine import run_grid, run_grid_daily
from sixbtc.backtester.search import SearchConfig, successive_halving
from sixbtc.backtester.trials import pool_daily

N = 24 * 60


def _ohlc(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, N)))
    open_ = np.concatenate(([100.0], close[:-1]))
    return {"open": open_, "high": np.maximum(open_, close) * 1.002, "low": np.minimum(open_, close) * 0.998,
            "close": close, "volume": np.ones(N)}


class Periodic:
    def signals(self, data: dict[str, np.ndarray], params_list: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        idx = np.arange(len(data["close"]))
        ent = np.stack([idx % p["period"] == 0 for p in params_list])
        return ent, np.roll(ent, 3, axis=1)


PARAMS = [{"period": p, "sl_pct": 0.02, "tp_pct": 0.04} for p in range(5, 32)]


def _coins(n: int) -> list[CoinSeries]:
    return [CoinSeries(f"C{k}", _ohlc(k), np.zeros(N), 24, 24 * 40, 8760.0, Periodic(), PARAMS, 1, (0.00045, 2.0),
                       days=np.arange(N) // 24 + 20_000) for k in range(n)]


def test_run_grid_daily_matches_run_grid_and_compounds_to_the_total_return() -> None:
    d = _ohlc(1)
    rng = np.random.default_rng(0)
    ent, ext = rng.random((N, 6)) < 0.05, rng.random((N, 6)) < 0.1
    sl, tp = np.full(6, 0.02), np.linspace(0.01, 0.06, 6)
    days = np.arange(N) // 24
    g, r, labels = run_grid_daily(d["open"], d["high"], d["low"], d["close"], ent, ext, sl, tp, day_of_bar=days,
                                  direction=-1, start=30, end=N - 5)
    ref = run_grid(d["open"], d["high"], d["low"], d["close"], ent, ext, sl, tp, direction=-1, start=30, end=N - 5)
    np.testing.assert_array_equal(g.sharpe, ref.sharpe)
    np.testing.assert_allclose(np.prod(1.0 + r, axis=0) - 1.0, ref.total_return, rtol=1e-9, atol=1e-12)
    assert r.shape == (len(labels), 6) and labels[0] == 1 and labels[-1] == (N - 6) // 24  # partial days count


def test_run_grid_daily_refuses_bad_days() -> None:
    d = _ohlc(2)
    ent = np.zeros((N, 1), dtype=bool)
    with pytest.raises(ValueError, match="day_of_bar"):
        run_grid_daily(d["open"], d["high"], d["low"], d["close"], ent, ent, [0.0], [0.0],
                       day_of_bar=np.arange(N - 1), direction=1)
    with pytest.raises(ValueError, match="non-decreasing"):
        run_grid_daily(d["open"], d["high"], d["low"], d["close"], ent, ent, [0.0], [0.0],
                       day_of_bar=np.arange(N)[::-1].copy(), direction=1)


def test_search_exposes_every_rung_it_simulated() -> None:
    coins = _coins(6)
    found = successive_halving(coins, len(PARAMS), 5, SearchConfig(rungs=3, eta=3, screen_coins=2),
                               screen_returns=True)
    assert [(len(r.set_indices), len(r.symbols)) for r in found.ledger] == found.rungs
    assert sum(r.simulations for r in found.ledger) == found.trials
    assert found.ledger[0].symbols == ["C0", "C1"] and found.ledger[0].sharpe.dtype == np.float32
    assert found.ledger[-1].set_indices.tolist() == found.survivors
    grid = found.screen_returns
    assert grid.returns.shape == (N // 24 - 1, len(PARAMS))  # IS+OOS days from day 1 (i_is = 24)
    assert grid.set_indices.tolist() == list(range(len(PARAMS)))
    # the pooled column is the mean of the screening coins' own daily returns
    own = [c.daily([4], c.i_is, c.n_bars)[1][:, 0] for c in coins[:2]]
    np.testing.assert_allclose(grid.returns[:, 4], np.mean(own, axis=0))


def test_pool_daily_aligns_days_and_averages_the_coins_present() -> None:
    a = (np.array([[0.01], [0.02]]), np.array([5, 6]))
    b = (np.array([[0.03], [-0.02]]), np.array([6, 7]))
    r, days = pool_daily([a, b])
    assert days.tolist() == [5, 6, 7]
    np.testing.assert_allclose(r[:, 0], [0.01, 0.025, -0.02])
    with pytest.raises(ValueError, match="at least one"):
        pool_daily([])
