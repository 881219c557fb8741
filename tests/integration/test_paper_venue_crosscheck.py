"""The paper venue fills the backtest kernel's trades exactly (real Binance 1h candles and funding).

For SMA-crossover signals on real BTC/ETH perpetual candles with their real funding, the
kernel's trades (:func:`sixbtc.backtester.engine.run_single`) are replayed as venue orders
by :mod:`sixbtc.testing.paper_crosscheck` (entries at the next open sized by the one sizing
rule on the venue's equity, the kernel's stop and target as resting reduce-only triggers,
signal exits as reduce-only market orders) and compared trade by trade: prices, quantities,
notionals, fees, funding and PnL to 1e-9 relative, and the exit reasons. Cases cover both
directions, both sizing modes, leverage with liquidations, and no funding.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sixbtc.adapters.exchanges.paper_venue import PaperVenue
from sixbtc.adapters.storage.db import make_engine, migrate
from sixbtc.backtester import kernel
from sixbtc.backtester.engine import run_single
from sixbtc.domain.sizing import SizingRule
from sixbtc.testing.paper_crosscheck import Series, mismatches, read_series, replay_trades

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "binance_usdm"
N_BARS = 2000
INIT_CASH = 10_000.0
FEE, SLIP_BPS = 0.00045, 2.0


def _series(symbol: str) -> Series:
    s = read_series(DATA, symbol, N_BARS)
    if s is None:
        pytest.skip(f"real market data for {symbol} not found in {DATA} (../shared/data is absent)")
    assert np.count_nonzero(s.funding) > 100, "the window must hold real funding settlements"
    return s


def _signals(close: np.ndarray, direction: int, fast: int = 8, slow: int = 30) -> tuple[np.ndarray, np.ndarray]:
    c = pd.Series(close)
    up = (c.rolling(fast).mean() > c.rolling(slow).mean()).to_numpy()
    was = np.r_[False, up[:-1]]
    cross_up, cross_down = up & ~was, ~up & was
    cross_up[:slow] = cross_down[:slow] = False
    return (cross_up, cross_down) if direction == 1 else (cross_down, cross_up)


CASES = [  # symbol, direction, sl, tp, rule, max_bars_held, funding
    ("BTC", 1, 0.02, 0.04, SizingRule("equity"), 0, True),
    ("ETH", -1, 0.015, 0.03, SizingRule("equity"), 0, True),
    ("BTC", -1, 0.01, 0.05, SizingRule("risk", 0.01, 5.0), 48, True),
    ("ETH", 1, 0.008, 0.02, SizingRule("risk", 0.02, 3.0, 15_000.0), 0, True),
    ("ETH", 1, 0.30, 0.0, SizingRule("risk", 0.1, 25.0), 0, True),  # liquidation (3.5 %) before the stop
    ("BTC", 1, 0.02, 0.04, SizingRule("equity"), 0, False),
]


@pytest.mark.parametrize(("symbol", "direction", "sl", "tp", "rule", "max_bars", "with_funding"), CASES)
def test_paper_venue_fills_equal_the_kernels_trades(tmp_path, symbol, direction, sl, tp, rule, max_bars,
                                                    with_funding) -> None:
    s = _series(symbol)
    funding = s.funding if with_funding else np.zeros_like(s.funding)
    s = Series(s.symbol, s.timeframe, s.ts_ms, s.open, s.high, s.low, s.close, funding)
    entries, exits = _signals(s.close, direction)
    cap = rule.mode == "risk" and rule.max_notional_usd < np.inf
    res = run_single(s.open, s.high, s.low, s.close, entries, exits, sl_pct=sl, tp_pct=tp, direction=direction,
                     fee_rate=FEE, slippage_bps=SLIP_BPS, funding_rate=funding, max_bars_held=max_bars,
                     init_cash=INIT_CASH, start=40, **rule.engine_kwargs(cap=cap))
    trades = res.trades
    assert len(trades) >= 20, "the case must trade"
    if with_funding:
        assert np.count_nonzero(trades["funding_usd"]) >= 10
    if sl >= 0.2:
        assert (trades["exit_reason"] == kernel.LIQUIDATION).sum() >= 1, "the case must liquidate"
    engine = make_engine(f"sqlite:///{tmp_path / 'venue.db'}")
    migrate(engine)
    venue = PaperVenue(engine, fee_rate=FEE, slippage_bps=SLIP_BPS, initial_master_usd=INIT_CASH)
    venue.create_subaccount("bt")
    venue.transfer_usd("bt", INIT_CASH, to_subaccount=True)
    venue.set_leverage("bt", symbol, rule.leverage)
    paper = replay_trades(venue, "bt", s, trades, direction=direction, sl_pct=sl, tp_pct=tp, start=40,
                          end=len(s.open), notional=lambda eq: rule.notional(eq, sl))
    assert mismatches(trades, paper) == []
    assert venue.balance("bt").equity_usd == pytest.approx(float(res.equity[-1]), rel=1e-9)
    funding_total = -sum(p.amount_usd for p in venue.funding_since("bt", 0))
    assert funding_total == pytest.approx(float(trades["funding_usd"].sum()), rel=1e-9, abs=1e-9)
