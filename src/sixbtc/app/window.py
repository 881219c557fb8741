"""The data windows of one pipeline cycle: in-sample, out-of-sample, confirmation, replay.

The replay (paper trading) takes the most recent ``executor.replay_days`` of the store.
Before it, the **confirmation window** (the last ``backtest.confirm_days``) is never used
for any choice, score or gate: backtests and re-tests end where it begins, and only a pool
entrant's chosen parameters are traded on it afterwards (:mod:`sixbtc.app.confirmation`).
So the confirmation result and paper trading run on days no choice has seen.

A series whose last candle closes after ``now`` (future rows: a corrupt file, a wrong epoch
unit, a clock set back) would drag every window past the real data and make every strategy
fail with too few trades. :func:`plan_window` ignores such a series and says so twice: the
returned :class:`CycleWindow` lists it in ``notes`` (for a front end to print), and the
``sixbtc.app.window`` logger emits one warning per distinct note and process.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pandas as pd

from sixbtc.config import Settings
from sixbtc.core.clock import Clock, LiveClock
from sixbtc.core.errors import DataError
from sixbtc.data.ports import CandleStore, StoreEntry
from sixbtc.domain.timeframe import Timeframe

log = logging.getLogger(__name__)
_BOUNDS = ("is_start", "oos_start", "replay_start", "replay_end")
_OPTIONAL = ("confirm_start",)
_logged: set[str] = set()


@dataclass(frozen=True)
class CycleWindow:
    """UTC bounds: IS ``[is_start, oos_start)``, OOS ``[oos_start, confirm_start)``,
    confirmation ``[confirm_start, replay_start)``, replay ``[replay_start, replay_end)``.

    ``confirm_start`` None (the default, and what :meth:`from_json` gives for a window
    written without it) means no confirmation window: it is then ``replay_start``.
    ``notes`` are warnings of the planner (e.g. a series ignored because it ends in the
    future); they are not part of :meth:`to_json`.
    """

    is_start: pd.Timestamp
    oos_start: pd.Timestamp
    replay_start: pd.Timestamp
    replay_end: pd.Timestamp
    notes: tuple[str, ...] = field(default=(), compare=False)
    confirm_start: pd.Timestamp = None  # type: ignore[assignment]  # None -> replay_start

    def __post_init__(self) -> None:
        if self.confirm_start is None:
            object.__setattr__(self, "confirm_start", self.replay_start)
        if not self.oos_start <= self.confirm_start <= self.replay_start:
            raise ValueError(f"confirm_start {self.confirm_start} must lie in [oos_start {self.oos_start}, "
                             f"replay_start {self.replay_start}]")

    @property
    def confirm_days(self) -> float:
        """Length of the confirmation window in days (0 = none)."""
        return (self.replay_start - self.confirm_start) / pd.Timedelta(days=1)

    def to_json(self) -> dict[str, str]:
        """ISO strings of the five bounds (for passing to worker processes)."""
        return {k: getattr(self, k).isoformat() for k in _BOUNDS + _OPTIONAL}

    @classmethod
    def from_json(cls, raw: dict[str, str]) -> CycleWindow:
        """Inverse of :meth:`to_json`; a window written before the confirmation window had
        ``confirm_start`` has none (``confirm_start = replay_start``)."""
        return cls(**{k: pd.Timestamp(raw[k]) for k in _BOUNDS},
                   **{k: pd.Timestamp(raw[k]) for k in _OPTIONAL if raw.get(k)})


def _end(entry: StoreEntry) -> pd.Timestamp:
    """Close time of the last stored candle."""
    return entry.last + pd.Timedelta(milliseconds=Timeframe.parse(entry.timeframe).ms)


def plan_window(store: CandleStore, settings: Settings, clock: Clock | None = None) -> CycleWindow:
    """Windows ending at the newest closed candle of the backtest timeframes in ``store``.

    Parameters
    ----------
    store : CandleStore
        Candle store to plan on.
    settings : Settings
        ``backtest.timeframes`` / ``is_days`` / ``oos_days`` / ``confirm_days`` and
        ``executor.replay_days``.
    clock : Clock or None
        Source of ``now`` (default: the wall clock). A series whose last candle closes after
        ``now`` is ignored and reported in ``notes`` and in the log.

    Raises
    ------
    DataError
        If the store holds no usable candles of the configured backtest timeframes (the
        message also names the series ignored because they end in the future).
    """
    now = pd.Timestamp((clock or LiveClock()).now())
    now = now.tz_localize("UTC") if now.tzinfo is None else now.tz_convert("UTC")
    tfs = set(settings.backtest.timeframes)
    entries = [e for e in store.inventory() if e.timeframe in tfs]
    future = [e for e in entries if _end(e) > now]
    notes = tuple(
        f"{e.symbol} {e.timeframe}: ignored by the window planner, its last candle "
        f"({e.last:%Y-%m-%d %H:%M} UTC) closes after now ({now:%Y-%m-%d %H:%M} UTC); "
        "check the source data and the system clock"
        for e in future
    )
    for note in notes:
        if note not in _logged:
            _logged.add(note)
            log.warning(note)
    ends = [_end(e) for e in entries if e not in future]
    if not ends:
        ignored = f" ({len(future)} ignored because they end in the future)" if future else ""
        raise DataError(f"the candle store has no candles for backtest.timeframes "
                        f"{sorted(tfs)}{ignored}; run `sixbtc data import PATH` or connect "
                        "to the network")
    replay_end = max(ends)
    replay_start = replay_end - pd.Timedelta(days=settings.executor.replay_days)
    confirm_start = replay_start - pd.Timedelta(days=settings.backtest.confirm_days)
    oos_start = confirm_start - pd.Timedelta(days=settings.backtest.oos_days)
    is_start = oos_start - pd.Timedelta(days=settings.backtest.is_days)
    return CycleWindow(is_start, oos_start, replay_start, replay_end, notes, confirm_start)


def symbols_by_timeframe(store: CandleStore, settings: Settings, window: CycleWindow,
                         preferred: list[str]) -> dict[str, list[str]]:
    """Coins per backtest timeframe whose candles cover warm-up + IS + OOS + confirmation.

    ``preferred`` (active coins by volume) come first, then the rest alphabetically; at most
    ``backtest.max_coins`` per timeframe.
    """
    bt = settings.backtest
    rank = {s: i for i, s in enumerate(preferred)}
    out: dict[str, list[str]] = {}
    for tf in bt.timeframes:
        need_from = window.is_start - pd.Timedelta(milliseconds=Timeframe.parse(tf).ms * bt.warmup_bars)
        need_to = window.replay_start - pd.Timedelta(milliseconds=Timeframe.parse(tf).ms)
        ok = [e.symbol for e in store.inventory() if e.timeframe == tf and e.first <= need_from and e.last >= need_to]
        ok.sort(key=lambda s: (rank.get(s, len(rank)), s))
        if ok:
            out[tf] = ok[: bt.max_coins]
    return out
