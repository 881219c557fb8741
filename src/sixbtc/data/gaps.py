"""Gaps in stored candle series: detection, filling from the venue, known venue gaps.

A **gap** is a run of missing candles between two stored ones: consecutive open times more
than one bar apart (SPEC §3.1 ``detect_gaps`` / ``fill_gaps``). :func:`fill_gaps` asks the
venue for every gap that is not already known; what the venue returns is validated and stored;
what it still does not have (an exchange outage: Binance spot 2018-02-08 has 34 missing hours,
real and never published) is recorded as a **known gap** in the series' metadata, so that it is
not requested again at every run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sixbtc.core.errors import DataError, NetworkUnavailable, SixbtcError
from sixbtc.data.anomalies import validate_and_screen
from sixbtc.data.ports import GapLedgerStore, MarketDataClient
from sixbtc.domain.timeframe import Timeframe

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Gap:
    """Missing candles ``[start, end)`` of one series.

    Attributes
    ----------
    start : pandas.Timestamp
        Open time (UTC) of the first missing candle.
    end : pandas.Timestamp
        Open time of the next stored candle (exclusive).
    bars : int
        Number of missing candles (``(end - start) / timeframe``).
    """

    start: pd.Timestamp
    end: pd.Timestamp
    bars: int

    def covered_by(self, known: Iterable[tuple[pd.Timestamp, pd.Timestamp]]) -> bool:
        """True if one known range ``[lo, hi)`` contains this whole gap."""
        return any(lo <= self.start and self.end <= hi for lo, hi in known)


def detect_gaps(frame: pd.DataFrame, timeframe: str) -> list[Gap]:
    """Runs of missing candles inside a sorted candle frame.

    Parameters
    ----------
    frame : pandas.DataFrame
        Candle frame (``timestamp`` ascending, unique, on the grid), shape ``(n, >= 1)``.
    timeframe : str
        Its timeframe (``"1h"``).

    Returns
    -------
    list of Gap
        In time order; empty for fewer than two rows.

    Raises
    ------
    DataError
        If the timeframe is unknown or the timestamps are not strictly ascending.
    """
    try:
        tf_ns = Timeframe.parse(timeframe).ms * 1_000_000
    except ValueError as exc:
        raise DataError(str(exc)) from None
    if len(frame) < 2:
        return []
    ns = frame["timestamp"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    step = np.diff(ns)
    if (step <= 0).any():
        raise DataError("detect_gaps: timestamps are not strictly ascending (validate the frame first)")
    where = np.flatnonzero(step > tf_ns)
    return [Gap(pd.Timestamp(int(ns[i]) + tf_ns, tz="UTC"), pd.Timestamp(int(ns[i + 1]), tz="UTC"),
                int(step[i] // tf_ns) - 1) for i in where]


@dataclass(frozen=True)
class GapFill:
    """Outcome of :func:`fill_gaps` on one series.

    Attributes
    ----------
    symbol, timeframe : str
        Series identity.
    gaps : int
        Gaps found that were not known before.
    requested : int
        Gaps asked from the venue (= ``gaps``).
    filled : int
        Candles the venue returned and the store kept.
    known_added : list of (Timestamp, Timestamp)
        Ranges recorded as known venue gaps by this run.
    known : int
        Gaps skipped because they were already known.
    error : str or None
        Why the series could not be handled.
    """

    symbol: str
    timeframe: str
    gaps: int = 0
    requested: int = 0
    filled: int = 0
    known_added: list[tuple[pd.Timestamp, pd.Timestamp]] = field(default_factory=list)
    known: int = 0
    error: str | None = None


def fill_gaps(client: MarketDataClient, store: GapLedgerStore, symbol: str, timeframe: str, *, now_ms: int) -> GapFill:
    """Ask the venue for the unknown gaps of one stored series; record what it lacks as known.

    Parameters
    ----------
    client : MarketDataClient
        Venue reader.
    store : GapLedgerStore
        The candle store, with its ledger of known venue gaps.
    symbol, timeframe : str
        Series identity.
    now_ms : int
        Current epoch ms (only closed candles are stored).

    Returns
    -------
    GapFill
        ``error`` set on a venue or data error (``NetworkUnavailable`` propagates).
    """
    try:
        return _fill(client, store, symbol, timeframe, now_ms)
    except NetworkUnavailable:
        raise
    except SixbtcError as exc:
        log.warning("fill_gaps %s %s failed: %s", symbol, timeframe, exc)
        return GapFill(symbol, timeframe, error=f"{type(exc).__name__}: {exc}")


def _fill(client: MarketDataClient, store: GapLedgerStore, symbol: str, timeframe: str, now_ms: int) -> GapFill:
    frame = store.read_candles(symbol, timeframe)
    known = store.known_gaps(symbol, timeframe)
    gaps = detect_gaps(frame, timeframe)
    todo = [g for g in gaps if not g.covered_by(known)]
    now = pd.Timestamp(int(now_ms), unit="ms", tz="UTC")
    bar = pd.Timedelta(milliseconds=Timeframe.parse(timeframe).ms)
    filled, still_missing = 0, []
    for gap in todo:
        got = client.fetch_ohlcv(symbol, timeframe, _ms(gap.start), _ms(gap.end))
        around = frame[(frame["timestamp"] >= gap.start - 2 * bar) & (frame["timestamp"] <= gap.end + bar)]
        checked = validate_and_screen(got, timeframe, now=now, neighbours=around)[0] if not got.empty else None
        inside = pd.DataFrame() if checked is None else checked.valid[
            (checked.valid["timestamp"] >= gap.start) & (checked.valid["timestamp"] < gap.end)]
        if len(inside):
            filled += store.write_candles(symbol, timeframe, inside)
        still_missing.extend(_holes(gap, inside, timeframe))
    if still_missing:
        store.add_known_gaps(symbol, timeframe, still_missing)
    return GapFill(symbol, timeframe, len(todo), len(todo), filled, still_missing, len(gaps) - len(todo))


def _holes(gap: Gap, got: pd.DataFrame, timeframe: str) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Ranges of ``gap`` that ``got`` (candles inside it) leaves empty."""
    if got.empty:
        return [(gap.start, gap.end)]
    tf = pd.Timedelta(milliseconds=Timeframe.parse(timeframe).ms)
    edges = pd.concat([pd.Series([gap.start - tf]), got["timestamp"].reset_index(drop=True),
                       pd.Series([gap.end])], ignore_index=True)
    frame = pd.DataFrame({"timestamp": edges})
    return [(g.start, g.end) for g in detect_gaps(frame, timeframe)]


def _ms(ts: pd.Timestamp) -> int:
    return int(pd.Timestamp(ts).value // 1_000_000)
