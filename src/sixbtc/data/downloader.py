"""Download candles and funding from a venue into the store (SPEC §3.1 "Downloader").

Per (symbol, timeframe), with ``target_start = now - history_days`` floored to the grid:

* nothing stored -> ``full``: fetch ``[target_start, now)``;
* stored series not known to be full history and starting after ``target_start`` ->
  ``backfill+forward``: fetch ``[target_start, first)`` and ``[last + tf, now)``;
* otherwise -> ``forward``: fetch ``[last + tf, now)``.

Only candles closed at ``now`` (open time + timeframe <= now) are requested, and every batch
is validated with that ``now``: a venue (or a fake) that returns a future or still-forming
candle, or a funding event after ``now``, sees it rejected and counted (``future_timestamp``,
``not_closed``). Isolated one-bar spikes are stored and reported in ``warnings``; rejections
and spikes are also logged (one warning per series).

A series is marked ``is_full_history`` when the venue returned nothing before a later
first candle than requested (the listing date is inside the window). Funding is updated
forward from the last stored event (or ``target_start``). Every batch goes through
:mod:`sixbtc.data.validation` and then the store. ``NetworkUnavailable`` aborts the run
(nothing can succeed offline); any other error is recorded on that series' result.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pandas as pd

from sixbtc.core.errors import DataError, NetworkUnavailable, SixbtcError
from sixbtc.data.anomalies import spike_warnings
from sixbtc.data.ports import CandleStore, MarketDataClient
from sixbtc.data.validation import validate_candles, validate_funding
from sixbtc.domain.timeframe import Timeframe

log = logging.getLogger(__name__)

DAY_MS = 86_400_000
FUNDING = "funding"


@dataclass(frozen=True)
class DownloadResult:
    """Outcome of updating one series.

    Attributes
    ----------
    symbol : str
        Base asset.
    timeframe : str
        Timeframe value, or ``"funding"``.
    mode : str
        ``"full"``, ``"backfill+forward"`` or ``"forward"``.
    fetched : int
        Rows returned by the venue.
    stored : int
        Valid rows written to the store.
    rejected : int
        Rows rejected by validation.
    reasons : dict[str, int]
        Rejection reason -> count.
    error : str or None
        Why the series could not be updated (None on success).
    warnings : list[str]
        Suspicious rows that were stored (isolated one-bar spikes).
    """

    symbol: str
    timeframe: str
    mode: str
    fetched: int = 0
    stored: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


def download(
    client: MarketDataClient,
    store: CandleStore,
    symbols: Iterable[str],
    timeframes: Iterable[str],
    *,
    history_days: int,
    now_ms: int,
    funding: bool = True,
) -> list[DownloadResult]:
    """Bring the stored candles (and funding) of ``symbols`` × ``timeframes`` up to ``now_ms``.

    Parameters
    ----------
    client : MarketDataClient
        Venue reader (e.g. ``CcxtMarketData``).
    store : CandleStore
        Destination store.
    symbols : iterable of str
        Base assets (``"BTC"``).
    timeframes : iterable of str
        Timeframe values (``"1h"``).
    history_days : int
        Length of history wanted, days (> 0).
    now_ms : int
        Current time, epoch milliseconds (only candles closed by then are stored).
    funding : bool
        Also update each symbol's funding history.

    Returns
    -------
    list[DownloadResult]
        One per (symbol, timeframe), then one per symbol for funding.

    Raises
    ------
    DataError
        If ``history_days <= 0`` or a timeframe is unknown.
    NetworkUnavailable
        If the venue cannot be reached (offline: use ``sixbtc data import PATH``).
    """
    if history_days <= 0:
        raise DataError(f"history_days must be > 0, got {history_days}")
    try:
        tfs = [Timeframe.parse(str(tf)) for tf in timeframes]
    except ValueError as exc:
        raise DataError(str(exc)) from None
    results: list[DownloadResult] = []
    for symbol in symbols:
        for tf in tfs:
            results.append(
                _guarded(
                    symbol,
                    tf.value,
                    lambda s=symbol, t=tf: _update_candles(
                        client, store, s, t, history_days, now_ms
                    ),
                )
            )
        if funding:
            results.append(
                _guarded(
                    symbol,
                    FUNDING,
                    lambda s=symbol: _update_funding(client, store, s, history_days, now_ms),
                )
            )
    return results


def _guarded(symbol: str, timeframe: str, run: Callable[[], DownloadResult]) -> DownloadResult:
    try:
        return run()
    except NetworkUnavailable:
        raise
    except SixbtcError as exc:
        log.warning("download %s %s failed: %s", symbol, timeframe, exc)
        return DownloadResult(
            symbol, timeframe, mode="failed", error=f"{type(exc).__name__}: {exc}"
        )


def _update_candles(
    client: MarketDataClient,
    store: CandleStore,
    symbol: str,
    tf: Timeframe,
    history_days: int,
    now_ms: int,
) -> DownloadResult:
    target_start = (now_ms - history_days * DAY_MS) // tf.ms * tf.ms
    closed_until = now_ms - tf.ms + 1  # open times < this are closed at now_ms
    entry = store.entry(symbol, tf.value)
    batches: list[pd.DataFrame] = []
    full_history: bool | None = None
    if entry is None:
        mode = "full"
        batches.append(client.fetch_ohlcv(symbol, tf.value, target_start, closed_until))
        full_history = _starts_after(batches[0], target_start)
    else:
        mode = "forward"
        first_ms = _ms(entry.first)
        if not entry.is_full_history and first_ms > target_start:
            mode = "backfill+forward"
            back = client.fetch_ohlcv(symbol, tf.value, target_start, first_ms)
            full_history = back.empty or _starts_after(back, target_start)
            batches.append(back)
        forward_from = _ms(entry.last) + tf.ms
        if forward_from < closed_until:
            batches.append(client.fetch_ohlcv(symbol, tf.value, forward_from, closed_until))
    return _store_batches(store, symbol, tf, mode, batches, full_history, now_ms)


def _store_batches(
    store: CandleStore,
    symbol: str,
    tf: Timeframe,
    mode: str,
    batches: list[pd.DataFrame],
    full_history: bool | None,
    now_ms: int,
) -> DownloadResult:
    """Validate the fetched batches with ``now``, store the valid rows, report spikes."""
    frames = [b for b in batches if not b.empty]
    fetched = sum(len(b) for b in frames)
    if not frames:
        return DownloadResult(symbol, tf.value, mode)
    checked = validate_candles(pd.concat(frames, ignore_index=True), tf.value, now=_utc(now_ms))
    warnings = spike_warnings(checked.valid)
    stored = (
        store.write_candles(symbol, tf.value, checked.valid, is_full_history=full_history)
        if len(checked.valid)
        else 0
    )
    result = DownloadResult(
        symbol, tf.value, mode, fetched, stored, checked.rejected, dict(checked.reasons),
        warnings=warnings,
    )
    _log_findings(result, checked.examples)
    return result


def _update_funding(
    client: MarketDataClient, store: CandleStore, symbol: str, history_days: int, now_ms: int
) -> DownloadResult:
    stored_events = store.read_funding(symbol)
    if stored_events.empty:
        mode, since = "full", now_ms - history_days * DAY_MS
    else:
        mode, since = "forward", _ms(stored_events["timestamp"].iloc[-1]) + 60_000
    batch = client.fetch_funding_history(symbol, since, now_ms)
    if batch.empty:
        return DownloadResult(symbol, FUNDING, mode)
    checked = validate_funding(batch, now=_utc(now_ms))
    stored = store.write_funding(symbol, checked.valid) if len(checked.valid) else 0
    result = DownloadResult(
        symbol, FUNDING, mode, len(batch), stored, checked.rejected, dict(checked.reasons)
    )
    _log_findings(result, checked.examples)
    return result


def _log_findings(result: DownloadResult, examples: list[str]) -> None:
    if result.rejected:
        log.warning(
            "download %s %s: %d of %d rows rejected %s; e.g. %s",
            result.symbol, result.timeframe, result.rejected, result.fetched, result.reasons,
            examples[:2],
        )
    for line in result.warnings:
        log.warning("download %s %s: %s", result.symbol, result.timeframe, line)


def _utc(ms: int) -> pd.Timestamp:
    return pd.Timestamp(int(ms), unit="ms", tz="UTC")


def _starts_after(frame: pd.DataFrame, target_start_ms: int) -> bool:
    """True if the venue's first candle is later than requested (listing inside window)."""
    return not frame.empty and _ms(pd.Timestamp(frame["timestamp"].min())) > target_start_ms


def _ms(ts: pd.Timestamp) -> int:
    return int(pd.Timestamp(ts).value // 1_000_000)
