"""Websocket live feed: venue kline pushes → closed candles → the candle store (SPEC §3.1 live feed).

A :class:`~sixbtc.data.ports.KlineSource` (ccxt pro ``watch_ohlcv``) pushes kline updates; this
stage turns them into stored candles:

* **Closed-candle detection**: a candle is closed when the venue marks its update final
  (Binance ``k.x``) or when an update of a later candle of the same stream arrives (its last
  update is then final). Updates of the forming candle are only remembered, never stored.
* **Bounded buffers**: each stream holds at most :data:`BUFFER_SIZE` closed, not yet flushed
  candles (oldest dropped first; a dropped candle becomes a gap that the REST backfill heals).
* **Validation**: each flush runs the store's rules on the batch
  (:func:`sixbtc.data.validation.validate_candles` with the clock's ``now``); rejected rows are
  counted and logged, never stored.
* **Gap detection**: a step of more than :data:`GAP_BARS` bars between the last stored candle
  and the next one (a reconnect, a dropped buffer, a maintenance window) triggers a REST
  backfill through :func:`sixbtc.data.gaps.fill_gaps`, which also records what the venue does
  not have as a known gap (so it is not asked for again).
* **Staleness alarm**: a stream whose next pushed candle is overdue (``now`` later than the last
  pushed closed candle's close + one bar + ``stale_grace_s``) is reported once per episode through
  ``on_stale`` (the service raises an alert), and polled over REST on each check while it stays
  stale, so a silent websocket stream never starves the store; ``on_recovered`` reports its
  return.

It also implements :class:`~sixbtc.data.ports.CandleFeed` (the interface of the replay feed):
iterating yields every flushed closed candle in arrival order until :meth:`close`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import pandas as pd

from sixbtc.core.clock import Clock
from sixbtc.core.errors import DataError, NetworkUnavailable, SixbtcError
from sixbtc.data.gaps import fill_gaps
from sixbtc.data.ports import (
    CandleStore,
    ClosedCandle,
    GapLedgerStore,
    KlineSource,
    KlineUpdate,
    MarketDataClient,
)
from sixbtc.data.validation import validate_candles
from sixbtc.domain.candles import OHLCV_COLUMNS
from sixbtc.domain.timeframe import Timeframe

log = logging.getLogger(__name__)

BUFFER_SIZE = 500
"""Closed candles held per stream before the oldest are dropped (SPEC §3.1: 500 per stream)."""
GAP_BARS = 1.5
"""A step between consecutive candles above this many bars is a gap (REST backfill)."""
LATENCY_SAMPLES = 10_000
"""Most latency samples kept (the newest)."""
Stream = tuple[str, str]


@dataclass
class _State:
    tf_ms: int
    forming: KlineUpdate | None = None
    pending: deque[KlineUpdate] = field(default_factory=lambda: deque(maxlen=BUFFER_SIZE))
    last_ms: int | None = None  # open time of the newest closed candle seen or stored
    stale: bool = False


@dataclass(frozen=True)
class FeedStats:
    """Counters of a :class:`StreamingCandleFeed` since it started.

    Attributes
    ----------
    closed, stored, rejected, dropped, backfilled : int
        Closed candles detected, candles stored by flushes, rejected by validation, dropped
        from full buffers, and written by REST backfills.
    reconnects : int
        ``"disconnected"`` reports of the source.
    """

    closed: int
    stored: int
    rejected: int
    dropped: int
    backfilled: int
    reconnects: int


class StreamingCandleFeed:
    """Closed candles of the subscribed streams, from a websocket source into a store.

    Parameters
    ----------
    source : KlineSource
        The venue's kline pushes.
    store : CandleStore
        Where closed candles are flushed (with known gaps when it is a ``GapLedgerStore``).
    rest : MarketDataClient
        REST reads of the backfills.
    clock : Clock
        ``now`` of validation and staleness.
    stale_grace_s : float
        Seconds past a candle's due close before its stream counts as stale.
    on_stale, on_recovered : callable or None
        ``on_stale(symbol, timeframe, overdue_s)`` once per stale episode;
        ``on_recovered(symbol, timeframe)`` when it ends. Called from the flushing thread.
    universe : callable or None
        Extra streams always subscribed (the backtest universe's forward updates), re-read at
        each :meth:`refresh`.
    flush_delay_s : float
        After a close is detected, the background flusher waits this long (more closes of the
        same moment are batched) before flushing; :meth:`refresh` flushes at once.
    check_every_s : float
        Period of the background staleness check (:meth:`check_stale`), seconds.
    """

    def __init__(self, source: KlineSource, store: CandleStore, rest: MarketDataClient, clock: Clock, *,
                 stale_grace_s: float = 60.0, on_stale: Callable[[str, str, float], None] | None = None,
                 on_recovered: Callable[[str, str], None] | None = None,
                 universe: Callable[[], Iterable[Stream]] | None = None, flush_delay_s: float = 0.2,
                 check_every_s: float = 5.0) -> None:
        if stale_grace_s < 0 or flush_delay_s < 0 or check_every_s <= 0:
            raise DataError("stale_grace_s and flush_delay_s must be >= 0, check_every_s > 0")
        self.check_every_s = check_every_s
        self.source, self.store, self.rest, self.clock = source, store, rest, clock
        self.stale_grace_s, self.flush_delay_s = stale_grace_s, flush_delay_s
        self._on_stale, self._on_recovered, self._universe = on_stale, on_recovered, universe
        self._lock = threading.Lock()  # guards _streams' states (source thread vs flusher)
        self._flush_lock = threading.Lock()  # one flush at a time
        self._subscribe_lock = threading.Lock()
        self._streams: dict[Stream, _State] = {}
        self._closed_event, self._stop = threading.Event(), threading.Event()
        self._out: queue.Queue[ClosedCandle | None] | None = None  # created by __iter__
        self._counts = dict.fromkeys(("closed", "stored", "rejected", "dropped", "backfilled", "reconnects"), 0)
        self.latency_ms: deque[float] = deque(maxlen=LATENCY_SAMPLES)
        """Venue send time → candle buffered, ms, per closed candle (newest last)."""
        self.connected = False
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> StreamingCandleFeed:
        """Start the source and the background flusher."""
        self.source.start(self.on_kline, self._on_state)
        self._thread = threading.Thread(target=self._flusher, name="live-feed-flush", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop the source and the flusher (pending candles are flushed first); ends iteration."""
        self._stop.set()
        self._closed_event.set()
        self.source.close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()
        if self._out is not None:
            self._out.put(None)

    def subscribe(self, streams: Iterable[Stream]) -> list[Stream]:
        """Track ``(symbol, timeframe)`` streams (plus the universe); return the new ones.

        A new stream first catches up over REST (the candles closed since its last stored one),
        then subscribes. A stream with nothing stored yet is left out (its history is the
        downloader's job: a series must not start at the first pushed candle) and asked again
        at the next call.

        Raises
        ------
        DataError
            For an unknown timeframe.
        """
        wanted = list(dict.fromkeys([*streams, *(self._universe() if self._universe else ())]))
        with self._subscribe_lock:  # the executor step and the scheduler's refresh may both call it
            return self._subscribe(wanted)

    def _subscribe(self, wanted: list[Stream]) -> list[Stream]:
        new = []
        for sym, tf in wanted:
            key = (sym, Timeframe.parse(tf).value)
            if key in self._streams:
                continue
            if self.store.last_timestamp(*key) is None:
                continue  # nothing stored: the downloader's backfill comes first (asked again next time)
            with self._flush_lock:
                self._poll(key, int(self.clock.now().timestamp() * 1000))  # catch up since the last stored
            last = self.store.last_timestamp(*key)
            state = _State(Timeframe.parse(tf).ms, last_ms=int(last.value // 1_000_000))
            with self._lock:
                self._streams[key] = state
            new.append(key)
        if new:
            self.source.subscribe(new)
        return new

    def streams(self) -> list[Stream]:
        """The tracked streams."""
        return list(self._streams)

    def stats(self) -> FeedStats:
        """The feed's counters."""
        return FeedStats(**self._counts)

    # --------------------------------------------------------------- intake
    def on_kline(self, u: KlineUpdate) -> None:
        """Take one pushed update (source thread): detect closes, buffer closed candles."""
        with self._lock:
            st = self._streams.get((u.symbol, u.timeframe))
            if st is None:
                return
            done = [u] if u.closed else []
            if st.forming is not None and u.open_ms > st.forming.open_ms:
                done.insert(0, st.forming)  # a later candle started: the previous update was final
            st.forming = None if u.closed else u
            for k in done:
                if st.last_ms is not None and k.open_ms <= st.last_ms:
                    continue  # already closed (a final update sent again after a reconnect)
                if len(st.pending) == st.pending.maxlen:
                    self._counts["dropped"] += 1
                st.pending.append(k)
                st.last_ms = k.open_ms
                self._counts["closed"] += 1
                self.latency_ms.append(time.time() * 1000.0 - k.event_ms)
        if done:
            self._closed_event.set()

    def _on_state(self, state: str, detail: str) -> None:
        self.connected = state == "connected"
        if state == "disconnected":
            self._counts["reconnects"] += 1
            log.warning("live feed: websocket disconnected (%s)", detail)
        else:
            log.info("live feed: websocket %s (%s)", state, detail)

    # ---------------------------------------------------------------- flush
    def refresh(self, streams: Iterable[Stream]) -> int:
        """Subscribe ``streams`` (and the universe), flush, check staleness; return candles stored.

        This is what the service's executor step calls before it reads the store."""
        self.subscribe(streams)
        stored = self.flush()
        self.check_stale()
        return stored

    def flush(self) -> int:
        """Validate and store every buffered closed candle; backfill gaps; return candles stored."""
        with self._flush_lock:
            total = 0
            for key in list(self._streams):
                with self._lock:
                    st = self._streams[key]
                    batch, st.pending = list(st.pending), deque(maxlen=BUFFER_SIZE)
                if batch:
                    total += self._store_batch(key, batch)
            return total

    def _store_batch(self, key: Stream, batch: list[KlineUpdate]) -> int:
        sym, tf = key
        frame = pd.DataFrame([(k.open_ms, k.open, k.high, k.low, k.close, k.volume) for k in batch],
                             columns=list(OHLCV_COLUMNS))
        checked = validate_candles(frame, tf, now=self.clock.now())
        if checked.rejected:
            self._counts["rejected"] += checked.rejected
            log.warning("live feed: %s %s: %d closed candles rejected (%s)", sym, tf, checked.rejected, checked.reasons)
        if checked.valid.empty:
            return 0
        before = self.store.last_timestamp(sym, tf)
        stored = self.store.write_candles(sym, tf, checked.valid)
        self._counts["stored"] += stored
        bar = pd.Timedelta(milliseconds=Timeframe.parse(tf).ms)
        opens = checked.valid["timestamp"]
        steps = opens.diff().fillna(opens.iloc[0] - (before if before is not None else opens.iloc[0]))
        if (steps > GAP_BARS * bar).any():
            self._backfill(key)
        if (out := self._out) is not None:  # someone iterates the feed
            for row in checked.valid.itertuples(index=False):
                ts = row.timestamp
                out.put(ClosedCandle(sym, tf, ts, ts + bar, row.open, row.high, row.low, row.close, row.volume))
        return stored

    def _backfill(self, key: Stream) -> None:
        """REST fill of the series' unknown gaps (known venue gaps are recorded, not re-asked)."""
        if not isinstance(self.store, GapLedgerStore):
            return
        now_ms = int(self.clock.now().timestamp() * 1000)
        try:
            result = fill_gaps(self.rest, self.store, *key, now_ms=now_ms)
        except NetworkUnavailable as exc:
            log.warning("live feed: backfill of %s %s failed, retried at the next gap: %s", *key, exc)
            return
        self._counts["backfilled"] += result.filled
        log.info("live feed: %s %s gap backfill: %d candles, %d ranges recorded as venue gaps",
                 *key, result.filled, len(result.known_added))

    # ------------------------------------------------------------ staleness
    def check_stale(self) -> list[Stream]:
        """Report streams whose next pushed candle is overdue (alarm once per episode), REST-poll
        them; return the stale streams."""
        with self._flush_lock:  # the REST client and the store writes are not shared between threads
            return self._check_stale(int(self.clock.now().timestamp() * 1000))

    def _check_stale(self, now_ms: int) -> list[Stream]:
        stale = []
        for key, st in list(self._streams.items()):
            overdue_s = self._overdue_s(st, now_ms)
            if overdue_s > 0:
                self._poll(key, now_ms)
                stale.append(key)
                if not st.stale and self._on_stale is not None:
                    self._on_stale(*key, overdue_s)
                st.stale = True
            elif st.stale:
                st.stale = False
                if self._on_recovered is not None:
                    self._on_recovered(*key)
        return stale

    def _overdue_s(self, st: _State, now_ms: int) -> float:
        """How late the websocket's next closed candle is (s, > 0: stale). Candles the REST poll
        stored do not count: the alarm is about the stream, the poll only keeps the store fresh."""
        if st.last_ms is None:
            return 0.0
        due_ms = st.last_ms + 2 * st.tf_ms  # the candle after the last one pushed closes then
        return (now_ms - due_ms) / 1000.0 - self.stale_grace_s

    def _poll(self, key: Stream, now_ms: int) -> None:
        """REST read of a stale stream's missing closed candles (the websocket is silent)."""
        last = self.store.last_timestamp(*key)
        tf_ms = Timeframe.parse(key[1]).ms
        if last is None or int(last.value // 1_000_000) + 2 * tf_ms > now_ms:
            return  # nothing stored, or the next candle has not closed yet: no request
        try:
            got = self.rest.fetch_ohlcv(*key, int(last.value // 1_000_000) + 1, now_ms)
        except SixbtcError as exc:
            log.warning("live feed: REST poll of stale %s %s failed: %s", *key, exc)
            return
        if not got.empty:
            self._counts["backfilled"] += self.store.write_candles(*key, got)

    def _flusher(self) -> None:
        next_check = time.monotonic() + self.check_every_s
        while not self._stop.is_set():
            self._closed_event.wait(timeout=1.0)
            if self._stop.is_set():
                return
            if self._closed_event.is_set():
                self._stop.wait(self.flush_delay_s)
                self._closed_event.clear()
                self._guarded(self.flush)
            if time.monotonic() >= next_check:
                self._guarded(self.check_stale)
                next_check = time.monotonic() + self.check_every_s

    @staticmethod
    def _guarded(fn: Callable[[], object]) -> None:
        try:
            fn()
        except Exception:  # noqa: BLE001 - the flusher thread must survive a failing store or venue
            log.exception("live feed: background %s failed", getattr(fn, "__name__", fn))

    # ---------------------------------------------------------- CandleFeed
    def __iter__(self) -> Iterator[ClosedCandle]:
        """Yield the closed candles flushed from now on, in arrival order, until :meth:`close`."""
        out = self._out = self._out or queue.Queue()
        while (candle := out.get()) is not None:
            yield candle

    def history(self, symbol: str, timeframe: str, upto_close_ts: pd.Timestamp, bars: int) -> pd.DataFrame:
        """The last ``bars`` stored candles closed at or before ``upto_close_ts`` (candle frame).

        Raises
        ------
        DataError
            If ``bars <= 0`` or nothing is stored for the series.
        """
        if bars <= 0:
            raise DataError(f"bars must be > 0, got {bars}")
        tf = Timeframe.parse(timeframe)
        upto = pd.Timestamp(upto_close_ts)
        upto = upto.tz_localize("UTC") if upto.tzinfo is None else upto
        frame = self.store.read_candles(symbol, tf.value, None, upto - pd.Timedelta(milliseconds=tf.ms) + pd.Timedelta(1))
        return frame.iloc[-bars:].reset_index(drop=True)
