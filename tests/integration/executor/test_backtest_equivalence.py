"""The same signals through the backtest engine and through the executor on the paper venue.

Real Binance 1h candles and funding (``/work/shared/data``; skipped with the reason when absent),
an SMA-crossover signal computed once: the backtest engine (:func:`run_single`) trades it with
the configured sizing rule (``risk.sizing: risk`` at the sub-account's capital, USD cap
included), and the executor trades it candle by candle on the paper venue through the whole
port (journal, submitter, pre-trade checks, venue stops and targets, trades from venue fills
and funding). Both must give the same trades — entry and exit prices, quantities, notionals,
fees, funding, PnL to 1e-9 relative, and exit reasons — and the same final balance. The
series' :class:`~sixbtc.testing.paper_crosscheck.Series` and signal come from the venue
cross-check (:mod:`sixbtc.testing.paper_crosscheck`).
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from executor_world import add_live, strategy_code

from sixbtc.app.executor_build import fund_paper_accounts
from sixbtc.app.live_set import live_set
from sixbtc.app.paper import feed_bar
from sixbtc.app.venues import open_venue
from sixbtc.backtester import kernel
from sixbtc.backtester.engine import run_single
from sixbtc.executor.engine import Executor
from sixbtc.executor.submitter import OrderSubmitter, RetryPolicy
from sixbtc.testing.paper_crosscheck import Series, read_series

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "binance_usdm"
N_BARS, START = 700, 40
REASONS = {kernel.SIGNAL: "SIGNAL", kernel.STOP_LOSS: "STOP_LOSS", kernel.TAKE_PROFIT: "TAKE_PROFIT",
           kernel.LIQUIDATION: "LIQUIDATION"}


def _series(symbol: str) -> Series:
    s = read_series(DATA, symbol, N_BARS)
    if s is None:
        pytest.skip(f"real market data for {symbol} not found in {DATA} (../shared/data is absent)")
    return s


def _signals(close: np.ndarray, direction: int, fast: int = 5, slow: int = 20) -> tuple[np.ndarray, np.ndarray]:
    c = pd.Series(close)
    up = (c.rolling(fast).mean() > c.rolling(slow).mean()).to_numpy()
    was = np.r_[False, up[:-1]]
    cross_up, cross_down = up & ~was, ~up & was
    cross_up[:slow] = cross_down[:slow] = False
    return (cross_up, cross_down) if direction == 1 else (cross_down, cross_up)


class SeriesSignals:
    """The precomputed signal at the decision bar (``bar_index`` of the history)."""

    def __init__(self, entries: np.ndarray, exits: np.ndarray) -> None:
        self.entries, self.exits = entries, exits

    def last_signal(self, strategy_id: int, data: dict[str, np.ndarray], params: dict[str, Any]) -> tuple[bool, bool]:
        i = int(data["bar_index"][-1])
        return bool(self.entries[i]), bool(self.exits[i])


class SeriesHistory:
    def __init__(self, s: Series) -> None:
        self.s = s

    def recent(self, symbol: str, timeframe: str, upto_ts: datetime, bars: int, inputs=()) -> dict[str, np.ndarray]:  # noqa: ANN001
        hi = int(np.searchsorted(self.s.ts_ms, int(upto_ts.timestamp() * 1000), side="right"))
        lo = max(0, hi - bars)
        return {"close": self.s.close[lo:hi], "bar_index": np.arange(lo, hi)}


def _close(a: float, b: float, scale: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12 * scale)


@pytest.mark.parametrize(("symbol", "direction", "sl", "tp"), [("BTC", 1, 0.015, 0.03), ("ETH", -1, 0.02, 0.05)])
def test_the_executor_on_the_paper_venue_trades_exactly_as_the_backtest(make_world, symbol, direction, sl,
                                                                         tp) -> None:
    s = _series(symbol)
    c = make_world(symbols=())
    rule, bt, capital = c.settings.risk.sizing_rule(), c.settings.backtest, c.settings.executor.subaccount_capital_usd
    entries, exits = _signals(s.close, direction)
    res = run_single(s.open, s.high, s.low, s.close, entries, exits, sl_pct=sl, tp_pct=tp, direction=direction,
                     fee_rate=bt.fee_rate, slippage_bps=bt.slippage_bps, funding_rate=s.funding, init_cash=capital,
                     start=START, **rule.engine_kwargs(cap=True))
    kt = res.trades
    closed = kt[kt["exit_reason"] != kernel.END_OF_DATA]
    assert len(closed) >= 8 and np.count_nonzero(closed["funding_usd"]) >= 3, "the case must trade and pay funding"
    assert {int(r) for r in closed["exit_reason"]} >= {kernel.SIGNAL, kernel.STOP_LOSS}

    sid = add_live(c, "Strategy_MOM_eq000001", strategy_code("Strategy_MOM_eq000001",
                                                            "long" if direction == 1 else "short"),
                   (symbol,), "long" if direction == 1 else "short", params={"sl_pct": sl, "tp_pct": tp})
    strategies = live_set(c)
    venue = open_venue(c)
    fund_paper_accounts(venue, strategies)
    store = c.execution_store(None)
    ex = Executor(strategies, venue, SeriesSignals(entries, exits), SeriesHistory(s), store, c.settings.risk,
                  history_bars=1, submitter=OrderSubmitter(venue, store, RetryPolicy(attempts=1)))
    for i in range(START, len(s.open)):
        feed_bar(ex, s.bar(i), float(s.funding[i]))

    got = c.trading.trades(sid)
    assert len(got) == len(closed), f"{len(closed)} backtest trades vs {len(got)} executor trades"
    bad = []
    for k, (t, g) in enumerate(zip(closed, got, strict=True)):
        scale = float(t["notional_usd"])
        pairs = {"entry_price": g["entry_price"], "exit_price": g["exit_price"], "qty": g["qty"],
                 "notional_usd": g["notional_usd"], "fees_usd": g["fees_usd"], "funding_usd": -g["funding_usd"],
                 "pnl_usd": g["pnl_usd"]}
        bad += [f"trade {k}: {col} backtest {float(t[col])!r} executor {v!r}" for col, v in pairs.items()
                if not _close(float(t[col]), v, scale)]
        if REASONS.get(int(t["exit_reason"]), "SIGNAL") != g["exit_reason"]:
            bad.append(f"trade {k}: reason backtest {int(t['exit_reason'])} executor {g['exit_reason']}")
    assert bad == []
    balance = c.trading.subaccount_of(sid)["balance_usd"]
    assert balance == pytest.approx(capital + float(closed["pnl_usd"].sum()), rel=1e-9)
    open_left = c.trading.open_positions(sid)
    assert len(open_left) == len(kt) - len(closed)  # the backtest's END_OF_DATA trade is still open here
    assert all(p["no_stop_ms"] == 0 for p in open_left)
