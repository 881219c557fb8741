"""Hand-computed golden cases of the sizing modes (``sizing=`` of run_single / run_grid).

Fee 0 and slippage 0 unless a test says otherwise; init_cash 10,000 USD.
"""

from __future__ import annotations

import numpy as np
import pytest

from sixbtc.backtester import run_grid, run_single
from sixbtc.domain.trading import ExitReason

CASH = 10_000.0

# Entry at open[1] = 100; bar 2 trades down to 97 (a 2 % long stop at 98 is touched).
DIP = [(100, 101, 99, 100), (100, 101, 99, 100), (100, 101, 97, 99), (99, 100, 98, 99),
       (104, 105, 103, 104), (106, 107, 105, 106), (108, 109, 107, 108)]


def _run(entries_at, exits_at, sl=np.nan, **kw):
    arr = np.asarray(DIP, dtype=np.float64)
    n = arr.shape[0]
    entries, exits = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    entries[list(entries_at)] = True
    exits[list(exits_at)] = True
    kw.setdefault("fee_rate", 0.0)
    kw.setdefault("slippage_bps", 0.0)
    return run_single(arr[:, 0].copy(), arr[:, 1].copy(), arr[:, 2].copy(), arr[:, 3].copy(),
                      entries, exits, sl_pct=sl, tp_pct=np.nan, direction=1, **kw)


def test_fixed_notional_does_not_compound():
    # trade 1: 2,500 USD at 100 -> 25 units, exit at open[4] = 104: +100 USD
    # trade 2: 2,500 USD at open[5] = 106 -> 2500/106 units, closed at close[6] = 108
    res = _run([0, 4], [3], sizing="fixed_notional", notional_usd=2_500.0)
    t = res.trades
    assert t.shape == (2,)
    np.testing.assert_allclose(t["notional_usd"], [2_500.0, 2_500.0])
    np.testing.assert_allclose(t["qty"], [25.0, 2_500.0 / 106.0])
    np.testing.assert_allclose(t["pnl_usd"], [25.0 * 4.0, 2_500.0 / 106.0 * 2.0])
    assert res.equity[-1] == pytest.approx(CASH + 100.0 + 2_500.0 / 106.0 * 2.0)


def test_fixed_notional_capped_at_leverage_times_equity():
    t = _run([0], [3], sizing="fixed_notional", notional_usd=50_000.0, leverage=2.0).trades
    assert t["notional_usd"][0] == 2.0 * CASH and t["qty"][0] == 200.0


def test_risk_sizing_loses_risk_per_trade_at_the_stop():
    # notional = 10,000 * 1 % / 2 % = 5,000 USD -> 50 units; stop at 98 -> -2 * 50 = -100 USD
    t = _run([0], [5], sl=0.02, sizing="risk", risk_per_trade=0.01).trades[0]
    assert t["notional_usd"] == pytest.approx(5_000.0)
    assert t["qty"] == pytest.approx(50.0)
    assert t["exit_reason"] == ExitReason.STOP_LOSS and t["exit_price"] == pytest.approx(98.0)
    assert t["pnl_usd"] == pytest.approx(-0.01 * CASH)


def test_risk_sizing_compounds_and_fees_add_to_the_loss():
    # trade 1 stops out at 98 (-100 USD before fees), trade 2 sized from the new equity
    fee = 0.001
    res = _run([0, 3], [5], sl=0.02, sizing="risk", risk_per_trade=0.01, fee_rate=fee)
    t1, t2 = res.trades
    assert t1["fees_usd"] == pytest.approx(5_000.0 * fee + 50.0 * 98.0 * fee)
    assert t1["pnl_usd"] == pytest.approx(-100.0 - t1["fees_usd"])
    equity_at_entry_2 = CASH + t1["pnl_usd"]
    assert t2["entry_idx"] == 4
    assert t2["notional_usd"] == pytest.approx(equity_at_entry_2 * 0.01 / 0.02)


def test_risk_sizing_capped_at_leverage_times_equity():
    # 5 % risk with a 2 % stop asks for 25,000 USD; 1x leverage caps it at 10,000 USD
    t = _run([0], [3], sl=0.02, sizing="risk", risk_per_trade=0.05).trades[0]
    assert t["notional_usd"] == pytest.approx(CASH)
    t = _run([0], [3], sl=0.02, sizing="risk", risk_per_trade=0.05, leverage=3.0).trades[0]
    assert t["notional_usd"] == pytest.approx(25_000.0)


def test_default_sizing_is_equity_frac_and_equals_explicit():
    implicit = _run([0, 4], [3], position_frac=0.5)
    explicit = _run([0, 4], [3], position_frac=0.5, sizing="equity_frac")
    np.testing.assert_array_equal(implicit.trades, explicit.trades)
    assert implicit.trades["notional_usd"][0] == pytest.approx(0.5 * CASH)


def test_grid_sizing_matches_single_per_stop():
    arr = np.asarray(DIP, dtype=np.float64)
    o, h, lo, c = (arr[:, k].copy() for k in range(4))
    e = np.zeros(len(DIP), dtype=bool)
    e[0] = True
    x = np.zeros(len(DIP), dtype=bool)
    sl = np.array([0.02, 0.05])
    kw = dict(direction=1, fee_rate=0.0, slippage_bps=0.0, sizing="risk", risk_per_trade=0.01)
    grid = run_grid(o, h, lo, c, e, x, sl, np.nan, **kw)
    for p in range(2):
        single = run_single(o, h, lo, c, e, x, sl_pct=sl[p], tp_pct=None, **kw)
        assert single.metrics == grid.metrics(p)


def test_risk_sizing_without_stop_raises_in_run_single():
    with pytest.raises(ValueError, match="sizing='risk' needs every sl_pct > 0"):
        _run([0], [3], sl=None, sizing="risk", risk_per_trade=0.01)
