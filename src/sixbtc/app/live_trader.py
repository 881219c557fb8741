"""The service's executor loop: new closed candles of the LIVE set's streams → :class:`Executor`.

Each candle is fed in the venue-port order (:func:`sixbtc.app.paper.feed_bar`); online (and
always on a live venue), the pass time is the wall clock (entries on stale candles are refused
by the pre-trade checks) and :meth:`LiveTrader.sync` runs the trade sync between candles. On a
live venue the executor is reconciled with it as soon as it is built, before any candle is
handed over (:func:`sixbtc.app.reconciliation.reconcile_now`; a failure drops it and the next
step tries again).

Online, candles come from the venue through ``feed`` (:mod:`sixbtc.app.live_candles`: the
websocket feed, which flushes them to the store as they close, or REST polling at each step;
default REST polling), stored first, from each stream's oldest
resume point (so the candles stored while the service was down are traded and checked
against stops too); a strategy that never traded starts with the next new candle. Offline,
the store is replayed from the start of the replay window (the executor skips what it
processed before) and the trader then waits for new data (e.g. ``sixbtc data import``).

Every step re-reads the history the signals are computed on, so a decision always sees the
candle it is made on. Candles are handed to the executor in processing order (close time,
symbol, timeframe) and never behind one already handed: a stream whose next candle is due but
not stored yet (a poll that failed, an import still running) holds back the later candles of
the other streams — until it is a whole bar overdue (``stalled``: it then holds nothing back;
candles it delivers late are only checked against stops and targets, and that is logged). A
stream without any stored candle is left out, and said so once.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from sixbtc.adapters.exchanges.ccxt_market import CcxtMarketData
from sixbtc.app.container import Container
from sixbtc.app.lease import ExecutorLease
from sixbtc.app.live_candles import LiveCandles, RestPolling
from sixbtc.app.paper import (
    ArrayHistory,
    FundingRates,
    SandboxSignals,
    build_executor,
    feed_bar,
    live_set,
    stored_streams,
)
from sixbtc.app.reconciliation import reconcile_now
from sixbtc.app.window import CycleWindow
from sixbtc.domain.timeframe import Timeframe
from sixbtc.executor.engine import Executor
from sixbtc.executor.ordering import hold_back_after
from sixbtc.executor.ports import Bar, BarCursor, BarKey

_END_OF_TIME = pd.Timestamp.max.tz_localize("UTC")
Stream = tuple[str, str]


class LiveTrader:
    """Feeds new closed candles of the LIVE set's streams to an :class:`Executor` (see the module docstring)."""

    def __init__(self, c: Container, window: CycleWindow, online: bool, log: Callable[[str], None],
                 lease: ExecutorLease | None = None, client: CcxtMarketData | None = None,
                 feed: LiveCandles | None = None) -> None:
        self.c, self.online, self.log, self.lease = c, online, log, lease
        self.start = window.replay_start
        self._ids: tuple[tuple[int, bool], ...] = ()
        self._cursor: dict[Stream, pd.Timestamp] = {}
        self._newest: BarKey | None = None  # the newest bar handed to the executor
        self._missing: set[Stream] = set()  # streams already reported as not stored
        self._executor: Executor | None = None
        self._signals: SandboxSignals | None = None
        self._client: CcxtMarketData | None = client  # built on the first poll when None
        self._feed: LiveCandles | None = feed  # online candles; None: REST polling (built on the first step)
        self._rates: FundingRates | None = None

    def _rebuild(self) -> None:
        strategies = live_set(self.c)
        ids = tuple((s.id, s.active) for s in strategies)
        if ids == self._ids and self._executor is not None:
            return
        self.close()
        self._ids = ids
        live = not self.c.settings.executor.dry_run
        clock = (lambda: int(self.c.clock.now().timestamp() * 1000)) if self.online or live else None
        self._executor, self._signals = build_executor(self.c, strategies, _END_OF_TIME, self.lease, clock_ms=clock,
                                                       log=self.log)
        if self._executor.venue.mode == "live":
            reconcile_now(self.c, self._executor)  # the venue is the truth: before any candle or order
        self._rates = FundingRates(self.c)
        if self.online:
            lasts = [BarCursor(ts.to_pydatetime(), *stream) for stream in self._executor.streams()
                     if (ts := self.c.store.last_timestamp(*stream)) is not None]
            if lasts:
                self._executor.start_fresh_after(max(lasts, key=lambda b: b.key))
        for stream in self._executor.streams():
            self._cursor.setdefault(stream, self._first_cursor(stream))

    def _first_cursor(self, stream: Stream) -> pd.Timestamp:
        """The feed delivers this stream's candles opened after the returned time."""
        last = self.c.store.last_timestamp(*stream)
        if self.online and last is not None:
            resume = self._executor.resume_ts(stream) if self._executor is not None else None
            return min(last, pd.Timestamp(resume) - pd.Timedelta(milliseconds=1)) if resume is not None else last
        return self.start - pd.Timedelta(milliseconds=Timeframe.parse(stream[1]).ms)

    def step(self) -> int:
        """Fetch (online) and execute every new closed candle; return how many were processed.

        If the step fails, the executor is dropped and rebuilt from the store at the next
        step (its memory may be ahead of what was committed)."""
        try:
            return self._step()
        except BaseException:
            self.close()
            raise

    def _step(self) -> int:
        self._rebuild()
        if self._executor is None or not self._cursor:
            return 0
        if self.online:
            self._fetch(self._executor.streams())
        streams, missing = stored_streams(self.c, self._executor.streams())
        if set(missing) - self._missing:
            self.log(f"no stored candles for {', '.join(' '.join(s) for s in missing)}: not traded")
        self._missing = set(missing)
        self._executor.history = ArrayHistory(self.c, _END_OF_TIME)  # candles stored since the last step
        if (refresh := getattr(self._executor.gate_of_pass, "refresh", None)) is not None:
            refresh()  # one kill-switch pass per step: equity sampled, states read (emergency-stop)
        bars = self._new_bars(streams)
        for bar in bars:
            if self.lease is not None:
                self.lease.check()
            feed_bar(self._executor, bar, self._rates.at(bar))
            self._cursor[(bar.symbol, bar.timeframe)] = pd.Timestamp(bar.ts)
        return len(bars)

    def sync(self) -> int:
        """Trade sync between candles (:meth:`Executor.sync`, every ``executor.sync_interval_s``
        in the service): venue fills → positions, trades and stops; returns the new fills.
        Nothing before the first step has built the executor; a failure drops it as in :meth:`step`."""
        if self._executor is None or not self.online:
            return 0  # offline, the venue only moves with the candles fed in step()
        try:
            if self.lease is not None:
                self.lease.check()
            return self._executor.sync()
        except BaseException:
            self.close()
            raise

    def _new_bars(self, streams: list[Stream]) -> list[Bar]:
        """The stored candles after each stream's cursor that may be traded now, in processing order."""
        bars, newest = [], {}
        for sym, tf in streams:
            after = self._cursor[(sym, tf)] + pd.Timedelta(milliseconds=1)
            df = self.c.store.read_candles(sym, tf, after, None)
            if (last := self.c.store.last_timestamp(sym, tf)) is not None:
                newest[(sym, tf)] = last.to_pydatetime()
            bars += [Bar(sym, tf, ts.to_pydatetime(), o, h, lo, cl) for ts, o, h, lo, cl in
                     zip(df["timestamp"], df["open"], df["high"], df["low"], df["close"], strict=True)]
        limit = hold_back_after(newest, self.c.clock.now())
        bars = sorted((b for b in bars if limit is None or b.key[0] < limit), key=lambda b: b.key)
        late = sorted({(b.symbol, b.timeframe) for b in bars if self._newest is not None and b.key <= self._newest})
        if late:
            self.log(f"candles of {', '.join(' '.join(s) for s in late)} arrived after later ones were traded: "
                     "checked against stops and targets only")
        if bars:
            self._newest = max(self._newest or bars[-1].key, bars[-1].key)
        return bars

    def _fetch(self, streams: list[Stream]) -> None:
        self._feed = self._feed or RestPolling(self.c, self._client, self.log)
        self._feed.refresh(streams)

    def close(self) -> None:
        """Stop the sandboxes of the current LIVE set."""
        if self._signals is not None:
            self._signals.close()
        self._signals, self._executor = None, None
