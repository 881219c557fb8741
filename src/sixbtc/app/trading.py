"""Trading roles: rotator, executor on the replay feed (paper), monitor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from sixbtc.adapters.exchanges.paper import PaperBroker
from sixbtc.adapters.storage.tables import StrategyRow
from sixbtc.app.container import Container
from sixbtc.app.window import CycleWindow
from sixbtc.core.errors import StaleClaim
from sixbtc.data.replay import ReplayFeed
from sixbtc.domain.strategy import StrategyRecord, StrategyStatus
from sixbtc.domain.timeframe import Timeframe
from sixbtc.domain.trading import Direction
from sixbtc.executor.engine import Executor, LiveStrategy
from sixbtc.executor.ports import Bar
from sixbtc.monitor.live_metrics import live_metrics
from sixbtc.monitor.retirement import Verdict, judge
from sixbtc.rotator.rotation import Promotion, rotate
from sixbtc.scorer.score import live_score
from sixbtc.strategy.sandbox import StrategySandbox

T = StrategyRow.__table__


class RepoRotationStore:
    """:class:`~sixbtc.rotator.ports.RotationStore` over the repositories."""

    def __init__(self, c: Container) -> None:
        self.c = c

    def live(self) -> list[StrategyRecord]:
        return self.c.strategies.list_by_status(StrategyStatus.LIVE)

    def pool_by_score(self) -> list[StrategyRecord]:
        return self.c.strategies.list_by_status(StrategyStatus.ACTIVE, by_score=True)

    def promote(self, strategy: StrategyRecord, reason: str) -> str:
        """ACTIVE → LIVE unless a worker holds a claim on it (then StaleClaim); bumps the
        fencing token so a re-test started earlier cannot overwrite the promotion."""
        with self.c.engine.begin() as conn:
            claimed = conn.execute(select(T.c.processing_by).where(T.c.id == strategy.id)).scalar()
            if claimed:
                raise StaleClaim(f"strategy {strategy.id} is being processed by {claimed}")
            self.c.strategies.transition_in(conn, strategy.id, strategy.claim_token, StrategyStatus.LIVE,
                                            phase="rotator", reason="rotator:promoted", detail=reason,
                                            live_since=self.c.clock.now(), claim_token=T.c.claim_token + 1)
        mode = "paper" if self.c.settings.executor.dry_run else "live"
        return self.c.trading.assign_subaccount(strategy.id, mode, self.c.settings.executor.subaccount_capital_usd)


def rotate_now(c: Container) -> list[Promotion]:
    """Fill free LIVE slots from the pool (SPEC §3.6)."""
    return rotate(RepoRotationStore(c), c.settings.rotator)


class ArrayHistory:
    """:class:`~sixbtc.executor.ports.HistorySource` over streams preloaded as arrays."""

    def __init__(self, c: Container, streams: list[tuple[str, str]], end: pd.Timestamp) -> None:
        self._data: dict[tuple[str, str], tuple[np.ndarray, dict[str, np.ndarray]]] = {}
        for sym, tf in streams:
            df = c.store.read_candles(sym, tf, None, end)
            ts = df["timestamp"].to_numpy("datetime64[ms]").astype(np.int64)
            self._data[(sym, tf)] = (ts, {k: df[k].to_numpy(np.float64) for k in ("open", "high", "low", "close", "volume")})

    def recent(self, symbol: str, timeframe: str, upto_ts: datetime, bars: int) -> dict[str, np.ndarray]:
        ts, arrays = self._data[(symbol, timeframe)]
        hi = int(np.searchsorted(ts, int(upto_ts.timestamp() * 1000), side="right"))
        lo = max(0, hi - bars)
        return {k: v[lo:hi] for k, v in arrays.items()}


class SandboxSignals:
    """:class:`~sixbtc.executor.ports.SignalEngine`: one sandbox worker per LIVE strategy."""

    def __init__(self, c: Container, strategies: list[StrategyRecord]) -> None:
        self._boxes: dict[int, StrategySandbox] = {}
        for rec in strategies:
            box = StrategySandbox(c.sandbox_limits())
            box.load(rec.code)
            self._boxes[rec.id] = box

    def last_signal(self, strategy_id: int, data: dict[str, np.ndarray], params: dict[str, Any]) -> tuple[bool, bool]:
        entries, exits = self._boxes[strategy_id].signals(data, [params])
        return bool(entries[0, -1]), bool(exits[0, -1])

    def close(self) -> None:
        for box in self._boxes.values():
            box.close()


def live_set(c: Container) -> list[LiveStrategy]:
    """The LIVE strategies as the executor runs them."""
    out = []
    for rec in c.strategies.list_by_status(StrategyStatus.LIVE):
        sub = c.trading.subaccount_of(rec.id)
        if sub is None or not rec.params or not rec.timeframe:
            continue
        direction = Direction((rec.metrics or {}).get("direction", "long"))
        out.append(LiveStrategy(rec.id, rec.name, rec.timeframe, rec.symbols, direction, rec.params,
                                sub["label"], sub["capital_usd"]))
    return out


@dataclass(frozen=True)
class ReplayStats:
    """What a paper replay did."""

    bars: int
    strategies: int
    streams: int


def paper_replay(c: Container, window: CycleWindow, on_tick: Callable[[int, int], None] | None = None) -> ReplayStats:
    """Paper-trade the LIVE set on the replay window, candle by candle."""
    strategies = live_set(c)
    if not strategies:
        return ReplayStats(0, 0, 0)
    records = [c.strategies.get(s.id) for s in strategies]
    bt = c.settings.backtest
    broker = PaperBroker(bt.fee_rate, bt.slippage_bps)
    streams = sorted({(sym, s.timeframe) for s in strategies for sym in s.symbols})
    history = ArrayHistory(c, streams, window.replay_end)
    signals = SandboxSignals(c, [r for r in records if r is not None])
    executor = Executor(strategies, broker, signals, history, c.trading, c.settings.risk, history_bars=bt.warmup_bars)
    feed = ReplayFeed(c.store, streams, window.replay_start, window.replay_end)
    total = sum(int(c.settings.executor.replay_days * Timeframe.parse(tf).bars_per_day) for _, tf in streams)
    n = 0
    try:
        for candle in feed:
            executor.on_bar(Bar(candle.symbol, candle.timeframe, candle.ts.to_pydatetime(), candle.open,
                                candle.high, candle.low, candle.close))
            n += 1
            if on_tick is not None and n % 200 == 0:
                on_tick(n, total)
    finally:
        signals.close()
    return ReplayStats(n, len(strategies), len(streams))


def monitor_now(c: Container) -> list[tuple[StrategyRecord, Verdict, float]]:
    """Judge every LIVE strategy on its paper/live trades; retire those that fail (SPEC §3.8)."""
    out = []
    for rec in c.strategies.list_by_status(StrategyStatus.LIVE):
        trades = c.trading.trades(rec.id)
        sub = c.trading.subaccount_of(rec.id)
        capital = sub["capital_usd"] if sub else c.settings.executor.subaccount_capital_usd
        span = ((trades[-1]["exit_ts"] - trades[0]["entry_ts"]).total_seconds() / 86400.0) if trades else 0.0
        m = live_metrics(np.array([t["return_frac"] for t in trades]), np.array([t["pnl_usd"] for t in trades]),
                         capital, span)
        value = live_score(sharpe=m.sharpe, expectancy=m.expectancy, profit_factor=m.profit_factor,
                           win_rate=m.win_rate, max_drawdown=m.max_drawdown, n_trades=m.n_trades,
                           weights=c.settings.scoring)
        verdict = judge(m, value, (rec.metrics or {}).get("expectancy"), c.settings.retirement)
        with c.engine.begin() as conn:
            if verdict.retire:
                c.strategies.transition_in(conn, rec.id, None, StrategyStatus.RETIRED, phase="monitor",
                                           reason=verdict.reason, detail=verdict.detail, live_score=value,
                                           claim_token=T.c.claim_token + 1)
            else:
                conn.execute(T.update().where(T.c.id == rec.id).values(live_score=value))
        if verdict.retire:
            c.trading.free_subaccount(rec.id)
        out.append((rec, verdict, value))
    return out
