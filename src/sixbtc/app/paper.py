"""Executor role: the LIVE set on the paper broker, over the replay feed or the live store.

:func:`build_executor` is the one builder of the executor for ``run --once`` and the
service: one sandbox per LIVE strategy, the history of its streams from the candle store,
the store fenced by this process's executor lease (:mod:`sixbtc.app.lease`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from sixbtc.adapters.exchanges.paper import PaperBroker
from sixbtc.app.container import Container
from sixbtc.app.lease import ExecutorLease
from sixbtc.app.window import CycleWindow
from sixbtc.core.errors import ConfigError, StaleClaim
from sixbtc.data.replay import ReplayFeed
from sixbtc.domain.risk import GLOBAL_SCOPE, TradingState, effective_state
from sixbtc.domain.strategy import StrategyRecord, StrategyStatus
from sixbtc.domain.timeframe import Timeframe
from sixbtc.domain.trading import Direction
from sixbtc.executor.engine import FAULT_REASON, Executor, LiveStrategy
from sixbtc.executor.ports import Bar
from sixbtc.strategy.input_loader import load_market
from sixbtc.strategy.inputs import MarketSample, build_data, lookback_ms
from sixbtc.strategy.sandbox import StrategySandbox


class ArrayHistory:
    """:class:`~sixbtc.executor.ports.HistorySource` over the store's candles opened before
    ``end``, each stream read once, on first use; a strategy's extra inputs come from the
    same loader and alignment as in the backtest (:func:`sixbtc.strategy.input_loader.load_market`,
    :func:`sixbtc.strategy.inputs.build_data`), each (stream, inputs) loaded once."""

    def __init__(self, c: Container, end: pd.Timestamp) -> None:
        self.c, self.end = c, end
        self._data: dict[tuple[str, str], tuple[np.ndarray, dict[str, np.ndarray], pd.DataFrame]] = {}
        self._markets: dict[tuple[str, str, tuple[str, ...]], MarketSample] = {}

    def _load(self, sym: str, tf: str) -> tuple[np.ndarray, dict[str, np.ndarray], pd.DataFrame]:
        if (sym, tf) not in self._data:
            df = self.c.store.read_candles(sym, tf, None, self.end)
            ts = df["timestamp"].to_numpy("datetime64[ms]").astype(np.int64)
            self._data[(sym, tf)] = (ts, {k: df[k].to_numpy(np.float64) for k in ("open", "high", "low", "close", "volume")},
                                     df)
        return self._data[(sym, tf)]

    def recent(self, symbol: str, timeframe: str, upto_ts: Any, bars: int,
               inputs: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
        ts, arrays, df = self._load(symbol, timeframe)
        hi = int(np.searchsorted(ts, int(upto_ts.timestamp() * 1000), side="right"))
        lo = max(0, hi - bars)
        if not inputs or hi == 0:
            return {k: v[lo:hi] for k, v in arrays.items()}
        key = (symbol, timeframe, inputs)
        if key not in self._markets:
            start = pd.Timestamp(df["timestamp"].iloc[0])
            self._markets[key] = load_market(self.c.store, symbol, timeframe, start, self.end, inputs, frame=df)
        return build_data(self._markets[key].window(lo, hi, lookback_ms(inputs)), inputs)


class SandboxSignals:
    """:class:`~sixbtc.executor.ports.SignalEngine`: one sandbox worker per LIVE strategy.

    A strategy whose code does not load is kept with its error, raised at its first signal
    call (the executor then stops it); a :class:`ConfigError` (no sandbox can start) is raised
    at once.
    """

    def __init__(self, c: Container, strategies: list[StrategyRecord]) -> None:
        self._boxes: dict[int, StrategySandbox] = {}
        self._errors: dict[int, Exception] = {}
        try:
            for rec in strategies:
                box = self._boxes[rec.id] = StrategySandbox(c.sandbox_limits())
                try:
                    box.load(rec.code)
                except ConfigError:
                    raise
                except Exception as exc:  # noqa: BLE001 — reported when the strategy is first asked
                    self._errors[rec.id] = exc
        except BaseException:
            self.close()
            raise

    def inputs(self, strategy_id: int) -> tuple[str, ...]:
        """The declared extra inputs of a loaded strategy (``()`` when it did not load)."""
        box = self._boxes.get(strategy_id)
        return box.inputs if box is not None and strategy_id not in self._errors else ()

    def last_signal(self, strategy_id: int, data: dict[str, np.ndarray], params: dict[str, Any]) -> tuple[bool, bool]:
        if strategy_id in self._errors:
            raise self._errors[strategy_id]
        entries, exits = self._boxes[strategy_id].signals(data, [params])
        if entries.dtype != np.bool_:  # a GRD strategy: the rotator never promotes one (rotator/rotation.py)
            raise ValueError("GRD strategies are not supported by the executor yet (no grid orders)")
        return bool(entries[0, -1]), bool(exits[0, -1])

    def close(self) -> None:
        for box in self._boxes.values():
            box.close()


def live_set(c: Container) -> list[LiveStrategy]:
    """The strategies the executor runs, by id: every LIVE strategy with a sub-account, plus
    (``active=False``) every other strategy that still holds a position or an order on its
    sub-account (wind-down: a retired strategy, or a record that cannot be read or run). A LIVE
    record that cannot be run (no parameters, unknown direction) is retired with
    ``executor:error`` and wound down; the others are run. The sub-account of a strategy that
    stopped trading and holds nothing is freed (a retirement interrupted before it freed it).

    Trading states (:mod:`sixbtc.domain.risk`; the stricter of the global one and the
    strategy's own): ACTIVE runs as above; REDUCING (a pause, a kill switch) runs with
    ``active=False``: no entries, positions wound down; HALTED (an emergency stop) leaves the
    strategy out: the executor sends nothing for it until a person resumes trading, and then
    picks it up from its resume point, as after a restart."""
    out = []
    live = {r.id: r for r in c.strategies.list_by_status(StrategyStatus.LIVE)}  # damaged rows left out
    states = c.trading_states
    global_state, own = states.get(GLOBAL_SCOPE).state, states.strategy_states()
    for sid, sub in c.trading.attached().items():
        state = effective_state(global_state, own[sid].state if sid in own else TradingState.ACTIVE)
        if state is TradingState.HALTED:  # sends nothing at all: not run (as if the executor were down for it)
            continue
        rec = live.get(sid)
        if rec is not None:
            try:
                out.append(replace(_live_strategy(rec, sub), active=state is TradingState.ACTIVE))
                continue
            except (KeyError, TypeError, ValueError) as exc:
                _retire_unrunnable(c, rec, f"cannot run the stored record: {type(exc).__name__}: {exc}")
        if c.trading.holdings(sid):  # only its positions and orders are needed to close them
            out.append(LiveStrategy(sid, rec.name if rec else f"strategy {sid}", "", (), Direction.LONG, {},
                                    sub["label"], sub["capital_usd"], active=False))
        elif rec is None and _stopped(c, sid):  # retired holding nothing, its sub-account left attached
            c.trading.free_subaccount(sid)
    return out


def _stopped(c: Container, sid: int) -> bool:
    """True when strategy ``sid`` is readable and not LIVE, or gone."""
    try:
        rec = c.strategies.get(sid)
    except (KeyError, TypeError, ValueError):  # a damaged record: its status is not known for sure
        return False
    return rec is None or rec.status is not StrategyStatus.LIVE


def _live_strategy(rec: StrategyRecord, sub: dict[str, Any]) -> LiveStrategy:
    if not rec.params or not rec.timeframe:
        raise ValueError("no parameters or timeframe stored")
    Timeframe.parse(rec.timeframe)
    direction = Direction((rec.metrics or {}).get("direction", "long"))
    return LiveStrategy(rec.id, rec.name, rec.timeframe, rec.symbols, direction, rec.params, sub["label"],
                        sub["capital_usd"])


def _retire_unrunnable(c: Container, rec: StrategyRecord, detail: str) -> None:
    if rec.status is StrategyStatus.LIVE:
        with contextlib.suppress(StaleClaim), c.engine.begin() as conn:
            c.strategies.transition_in(conn, rec.id, None, StrategyStatus.RETIRED, phase="executor",
                                       reason=FAULT_REASON, detail=detail)
            c.trading.free_subaccount_in(conn, rec.id)


@dataclass(frozen=True)
class ReplayStats:
    """What a paper replay did; ``missing`` lists streams without stored candles (not replayed)."""

    bars: int
    strategies: int
    streams: int
    missing: tuple[tuple[str, str], ...] = ()


def build_executor(c: Container, strategies: list[LiveStrategy], history_end: pd.Timestamp,
                   lease: ExecutorLease | None) -> tuple[Executor, SandboxSignals]:
    """The paper executor of ``strategies``: one sandbox per active one, history read up to
    ``history_end``, writes fenced by ``lease`` (None: unfenced, for tools and tests).

    The caller closes the returned :class:`SandboxSignals` when done.
    """
    bt = c.settings.backtest
    records = [r for s in strategies if s.active and (r := c.strategies.get(s.id)) is not None]
    signals = SandboxSignals(c, records)
    strategies = [replace(s, inputs=signals.inputs(s.id)) for s in strategies]
    try:
        executor = Executor(strategies, PaperBroker(bt.fee_rate, bt.slippage_bps), signals,
                            ArrayHistory(c, history_end), c.execution_store(lease.token if lease else None),
                            c.settings.risk, history_bars=bt.warmup_bars)
    except BaseException:
        signals.close()
        raise
    return executor, signals


@contextlib.contextmanager
def held_lease(c: Container, lease: ExecutorLease | None, holder: str) -> Iterator[ExecutorLease]:
    """``lease`` if the caller holds one, else the executor lease for the ``with`` block."""
    if lease is not None:
        yield lease
        return
    with ExecutorLease(c, holder) as own:
        yield own


def paper_replay(c: Container, window: CycleWindow, on_tick: Callable[[int, int], None] | None = None,
                 lease: ExecutorLease | None = None) -> ReplayStats:
    """Paper-trade the LIVE set on the replay window, candle by candle.

    Holds the executor lease (``lease``, else its own for the replay). Streams without stored
    candles are left out (``ReplayStats.missing``); a strategy that fails is stopped by the
    executor and the others trade on.

    Raises
    ------
    LeaseHeld
        When another executor trades this database.
    """
    with held_lease(c, lease, "paper replay") as held:
        strategies = live_set(c)
        if not strategies:
            return ReplayStats(0, 0, 0)
        executor, signals = build_executor(c, strategies, window.replay_end, held)
        try:
            return _replay(c, executor, window, held, len(strategies), on_tick)
        finally:
            signals.close()


def stored_streams(c: Container, streams: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """``streams`` split into those with stored candles and those without (not traded)."""
    present = [s for s in streams if c.store.has(*s)]
    return present, [s for s in streams if s not in present]


def _replay(c: Container, executor: Executor, window: CycleWindow, lease: ExecutorLease, n_strategies: int,
            on_tick: Callable[[int, int], None] | None) -> ReplayStats:
    streams, missing = stored_streams(c, executor.streams())
    if not streams:
        return ReplayStats(0, n_strategies, 0, tuple(missing))
    total = sum(int(c.settings.executor.replay_days * Timeframe.parse(tf).bars_per_day) for _, tf in streams)
    n = 0
    for candle in ReplayFeed(c.store, streams, window.replay_start, window.replay_end):
        lease.check()
        executor.on_bar(Bar(candle.symbol, candle.timeframe, candle.ts.to_pydatetime(), candle.open,
                            candle.high, candle.low, candle.close))
        n += 1
        if on_tick is not None and n % 200 == 0:
            on_tick(n, total)
    return ReplayStats(n, n_strategies, len(streams), tuple(missing))
