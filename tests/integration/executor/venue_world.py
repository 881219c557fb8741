"""Helpers of the executor-on-the-venue tests: scripted signals, an in-memory history, a
paper world with one LIVE strategy, the bar-by-bar feed and the order journal read back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from executor_world import add_live, strategy_code
from sqlalchemy import select

from sixbtc.adapters.exchanges.paper_venue import PaperVenue
from sixbtc.adapters.storage.tables import OrderRow
from sixbtc.app.executor_build import fund_paper_accounts
from sixbtc.app.live_set import live_set
from sixbtc.app.paper import feed_bar
from sixbtc.app.venues import open_venue
from sixbtc.core.errors import OrderRejected
from sixbtc.domain.orders import OrderRequest, OrderType, VenueFill, VenueOrder
from sixbtc.executor.engine import Executor
from sixbtc.executor.ports import Bar
from sixbtc.executor.submitter import OrderSubmitter, RetryPolicy

FEE, SLIP = 0.0005, 0.0002
T0 = datetime(2025, 3, 1, tzinfo=UTC)
NAME = "Strategy_MOM_aaaa0001"


def ts(i: int) -> datetime:
    return T0 + timedelta(hours=i)


def ms(i: int) -> int:
    return int(ts(i).timestamp() * 1000)


class ScriptedSignals:
    """(entry, exit) keyed by the index of the decision bar."""

    def __init__(self, script: dict[int, tuple[bool, bool]], fail_at: int | None = None) -> None:
        self.script, self.fail_at = script, fail_at

    def last_signal(self, strategy_id: int, data: dict[str, np.ndarray], params: dict[str, Any]) -> tuple[bool, bool]:
        i = int(data["bar_index"][-1])
        if i == self.fail_at:
            raise ZeroDivisionError("strategy bug")
        return self.script.get(i, (False, False))


class MemoryHistory:
    def __init__(self, bars: list[Bar]) -> None:
        self.bars = bars

    def recent(self, symbol: str, timeframe: str, upto_ts: datetime, bars: int, inputs=()) -> dict[str, np.ndarray]:  # noqa: ANN001
        rows = [(i, b) for i, b in enumerate(self.bars) if b.symbol == symbol and b.ts <= upto_ts][-bars:]
        out = {k: np.array([getattr(b, k) for _, b in rows], dtype=float) for k in ("open", "high", "low", "close")}
        out["bar_index"] = np.array([i for i, _ in rows])
        return out


class RejectStops(PaperVenue):
    """A paper venue that refuses every stop order (a venue fault, not our code)."""

    def place_order(self, account: str, request: OrderRequest) -> VenueOrder:
        if request.order_type is OrderType.STOP_MARKET:
            raise OrderRejected("trigger price too far from the mark")
        return super().place_order(account, request)


class LateFills(PaperVenue):
    """A paper venue whose fill reports lag (as a real venue's fill feed can): the fill of the
    order with client order id :attr:`late_cid` is reported as two halves, the second one only
    once :attr:`released` is set. The position on the venue holds the whole quantity from the
    start."""

    late_cid: str | None = None
    released = False

    def fills_since(self, account: str, since_ms: int) -> list[VenueFill]:
        out = []
        for f in super().fills_since(account, since_ms):
            if f.client_order_id == self.late_cid:
                half = dict(qty=f.qty / 2, fee_usd=f.fee_usd / 2)
                out.append(replace(f, trade_id=f"{f.trade_id}-1", **half))
                if self.released:
                    out.append(replace(f, trade_id=f"{f.trade_id}-2", **half))
            else:
                out.append(f)
        return out


def venue_like(c, cls: type[PaperVenue] = PaperVenue, **attrs: Any) -> PaperVenue:  # noqa: ANN001
    """A venue of class ``cls`` (a faulty paper venue) on ``c``'s database with the costs of its
    ``backtest`` section, as :func:`~sixbtc.app.venues.open_venue` builds the paper venue;
    ``attrs`` are set on it (e.g. ``late_cid``)."""
    bt = c.settings.backtest
    venue = cls(c.engine, fee_rate=bt.fee_rate, slippage_bps=bt.slippage_bps, initial_master_usd=0.0)
    for name, value in attrs.items():
        setattr(venue, name, value)
    return venue


class Gate:
    def __init__(self, entries: bool = True, reduce: bool = True) -> None:
        self.entries, self.reduce = entries, reduce

    def allows(self, strategy_id: int, *, reduce_only: bool) -> bool:
        return self.reduce if reduce_only else self.entries


def flat_bars(n: int, price: float = 100.0) -> list[Bar]:
    return [Bar("BTC", "1h", ts(i), price, price * 1.005, price * 0.995, price) for i in range(n)]


def make(c, bars, script, *, direction="long", venue=None, gate=None, fail_at=None, checkpoint=None,  # noqa: ANN001, ANN201
         clock_ms=None):
    if not live_set(c):
        add_live(c, NAME, strategy_code(NAME), ("BTC",), direction, params={"sl_pct": 0.02, "tp_pct": 0.04})
    strategies = live_set(c)
    venue = venue or open_venue(c)
    fund_paper_accounts(venue, strategies)
    store = c.execution_store(None)
    sub = OrderSubmitter(venue, store, RetryPolicy(attempts=3, base_delay_s=0.0), checkpoint=checkpoint)
    return Executor(strategies, venue, ScriptedSignals(script, fail_at), MemoryHistory(bars), store, c.settings.risk,
                    history_bars=3, gate=(lambda: gate) if gate else None, submitter=sub, clock_ms=clock_ms)


def run(ex: Executor, bars: list[Bar]) -> None:
    for bar in bars:
        feed_bar(ex, bar)


def journal(c) -> dict[str, tuple[str, str]]:  # noqa: ANN001
    with c.engine.connect() as conn:
        return {r.client_order_id: (r.leg, r.status) for r in conn.execute(select(OrderRow))}
