"""Pooled metrics across coins: pooled trades and the equal-weight portfolio, no per-coin ratio means."""

from __future__ import annotations

import numpy as np
import pytest

from sixbtc.backtester.pooled import (
    POOLED_PF_CAP,
    equity_daily,
    max_drawdown,
    pooled_metrics,
    profit_concentration,
    profit_factor,
)


def _coin(ret: float, n_trades: int, sharpe: float = 1.0) -> dict[str, float]:
    return {"total_return": ret, "sharpe": sharpe, "n_trades": n_trades, "exposure": 0.5}


def test_profit_factor_pools_trades_instead_of_averaging_capped_coin_ratios() -> None:
    # coin A: two winners, no loss (engine PF 1000); coin B: 1 winner of 10, 3 losers of 10
    pnl = [np.array([5.0, 5.0]), np.array([10.0, -10.0, -10.0, -10.0])]
    assert profit_factor(np.concatenate(pnl)) == pytest.approx(20.0 / 30.0)
    days = [np.arange(4) // 2, np.arange(4) // 2]
    eq = [np.array([1.0, 1.01, 1.02, 1.03]), np.array([1.0, 0.99, 0.98, 0.97])]
    m = pooled_metrics(eq, days, pnl, [p / 100 for p in pnl], [_coin(0.03, 2), _coin(-0.03, 4)])
    assert m["profit_factor"] == pytest.approx(2 / 3)
    assert m["win_rate"] == pytest.approx(3 / 6)
    assert m["n_trades"] == 6
    assert m["consistency"] == 0.5


def test_profit_factor_without_a_loss_is_the_bounded_cap() -> None:
    assert profit_factor(np.array([1.0, 2.0])) == POOLED_PF_CAP
    assert profit_factor(np.array([1e6, -1e-6])) == POOLED_PF_CAP
    assert profit_factor(np.array([])) == 0.0
    assert profit_factor(np.array([-1.0])) == 0.0


def test_sharpe_is_the_portfolio_s_and_offsetting_coins_cancel() -> None:
    rng = np.random.default_rng(0)
    r = rng.normal(0.001, 0.01, 60)
    up = np.cumprod(1 + r)
    down = np.cumprod(1 - r)  # the mirror coin: the portfolio is nearly flat
    days = np.arange(60)
    hedged = pooled_metrics([up, down], [days, days], [np.array([1.0])] * 2, [np.array([0.01])] * 2,
                            [_coin(0.1, 1, 2.0), _coin(-0.1, 1, -2.0)])
    alone = pooled_metrics([up], [days], [np.array([1.0])], [np.array([0.01])], [_coin(0.1, 1, 2.0)])
    assert abs(hedged["total_return"]) < 0.01
    assert alone["sharpe"] > 1.0
    assert hedged["max_drawdown"] < alone["max_drawdown"] + 1e-9
    assert hedged["sharpe_coin_mean"] == 0.0


def test_equity_daily_takes_each_day_s_last_close() -> None:
    r, d = equity_daily(np.array([2.0, 2.2, 2.4, 1.2]), np.array([5, 5, 6, 6]))
    assert d.tolist() == [5, 6]
    assert r[:, 0] == pytest.approx([0.1, 1.2 / 2.2 - 1.0])
    assert max_drawdown(np.array([0.1, -0.5])) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="must match"):
        equity_daily(np.array([1.0]), np.array([1, 2]))


def test_profit_concentration_top_trades_and_best_day() -> None:
    even = np.full(20, 1.0)
    top, day = profit_concentration(even, np.arange(20))
    assert top == pytest.approx(2 / 20) and day == pytest.approx(1 / 20)
    burst = np.array([10.0, 10.0, 10.0, 1.0, 1.0, -1.0, 1.0, 1.0, 1.0, 1.0])  # three trades on day 5
    top, day = profit_concentration(burst, np.array([5, 5, 5, 1, 2, 3, 4, 6, 7, 8]))
    assert top == pytest.approx(10.0 / 36.0)
    assert day == pytest.approx(30.0 / 36.0)
    assert profit_concentration(np.array([-1.0]), np.array([0])) == (1.0, 1.0)
    with pytest.raises(ValueError, match="differ"):
        profit_concentration(np.ones(2), np.ones(3, dtype=np.int64))
