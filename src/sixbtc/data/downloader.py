"""Download candles and funding from a venue into the store (SPEC §3.1 "Downloader").

Per (symbol, timeframe), with ``target_start = max(now - history_days, listing date)`` on the
grid (``from_listing=True``: the listing date, whatever ``history_days`` says; the listing
date is the venue's, Binance ``onboardDate``, None when unknown):

* nothing stored -> ``full``: fetch ``[target_start, now)``;
* stored series not known to be full history and starting after ``target_start`` ->
  ``backfill+forward``: fetch ``[target_start, first)`` and ``[last + tf, now)``;
* otherwise -> ``forward``: fetch ``[last + tf, now)``.

Only candles closed at ``now`` (open time + timeframe <= now) are requested, and every batch
is validated with that ``now``: a venue (or a fake) that returns a future or still-forming
candle, or a funding event after ``now``, sees it rejected and counted (``future_timestamp``,
``not_closed``). Isolated one-bar spikes and volume-only anomalies are reported in
``warnings`` (spikes of 100× or more are quarantined: counted as ``spike_quarantined``, not
stored; :mod:`sixbtc.data.anomalies`); rejections and anomalies are also logged.

A series is marked ``is_full_history`` when its history starts at the listing date (known
from the venue, or because the venue returned nothing before a later first candle than
requested).

Bulk history (``archive`` given, e.g. Binance's public monthly archives): the whole months of
a ``full`` / ``backfill`` range that are over before the current month come from the
archive (checksum verified), the rest from REST. Months without a file before the first one
found are skipped (before the listing); after it, a month the archive does not have, or one
whose checksum fails (logged), ends the archive part and REST takes over from there. Funding is updated
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
from sixbtc.data.anomalies import validate_and_screen
from sixbtc.data.ports import CandleArchive, CandleStore, MarketDataClient
from sixbtc.data.validation import validate_funding
from sixbtc.domain.timeframe import Timeframe

log = logging.getLogger(__name__)

DAY_MS = 86_400_000
FUNDING = "funding"
_EMPTY = pd.DataFrame({"timestamp": pd.Series([], dtype="datetime64[ns, UTC]")})


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
        Anomalies found: isolated one-bar spikes (stored, or quarantined at 100x) and
        volume-only outliers.
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
    from_listing: bool = False,
    archive: CandleArchive | None = None,
    on_result: Callable[[DownloadResult], None] | None = None,
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
    from_listing : bool
        Start new series at the venue's listing date instead of ``now - history_days``.
    archive : CandleArchive or None
        Bulk monthly history used before REST for whole past months (None: REST only).
    on_result : callable or None
        Called with each result as soon as it is known (progress bars).

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
    report = on_result or (lambda _r: None)
    for symbol in symbols:
        plan = _Plan(client, archive, symbol, history_days, now_ms, from_listing)
        for tf in tfs:
            results.append(_guarded(symbol, tf.value, lambda t=tf, p=plan: _update_candles(p, store, t)))
            report(results[-1])
        if funding:
            results.append(_guarded(symbol, FUNDING, lambda p=plan: _update_funding(p, store)))
            report(results[-1])
    return results


@dataclass
class _Plan:
    """What one symbol's updates share: the venue, the window and the listing date."""

    client: MarketDataClient
    archive: CandleArchive | None
    symbol: str
    history_days: int
    now_ms: int
    from_listing: bool
    _listing: int | None = None
    _asked: bool = False

    def listing(self) -> int | None:
        if not self._asked:
            self._asked, self._listing = True, self.client.listing_ms(self.symbol)
        return self._listing

    def start_ms(self, step_ms: int) -> tuple[int, bool]:
        """(first open time wanted on the ``step_ms`` grid, True if that is the listing date)."""
        window = self.now_ms - self.history_days * DAY_MS
        listing = self.listing()
        if listing is not None and (self.from_listing or listing >= window):
            return -(-listing // step_ms) * step_ms, True
        return window // step_ms * step_ms, False

    def fetch(self, tf: Timeframe, since_ms: int, until_ms: int) -> list[pd.DataFrame]:
        """Candles ``[since_ms, until_ms)``: whole past months from the archive, the rest by REST."""
        frames, since_ms = _from_archive(self.archive, self.symbol, tf, since_ms, until_ms, self.now_ms)
        if since_ms < until_ms:
            frames.append(self.client.fetch_ohlcv(self.symbol, tf.value, since_ms, until_ms))
        return frames


def _month_starts(since_ms: int, until_ms: int, now_ms: int) -> list[pd.Timestamp]:
    """Starts of the months overlapping ``[since_ms, until_ms)`` that end before now's month."""
    current = _utc(now_ms).tz_localize(None).to_period("M").start_time.tz_localize("UTC")
    first = _utc(since_ms).tz_localize(None).to_period("M").start_time.tz_localize("UTC")
    months = pd.date_range(first, current, freq="MS", inclusive="left")
    return [m for m in months if _ms(m) < until_ms]


def _from_archive(archive: CandleArchive | None, symbol: str, tf: Timeframe, since_ms: int,
                  until_ms: int, now_ms: int) -> tuple[list[pd.DataFrame], int]:
    """Archived candles of the whole past months from ``since_ms``; returns (frames, REST start)."""
    frames: list[pd.DataFrame] = []
    if archive is None:
        return frames, since_ms
    for month in _month_starts(since_ms, until_ms, now_ms):
        try:
            frame = archive.monthly_candles(symbol, tf.value, month.year, month.month)
        except NetworkUnavailable:
            raise
        except SixbtcError as exc:
            log.warning("archive %s %s %s: %s; REST from there", symbol, tf.value, f"{month:%Y-%m}", exc)
            break
        if frame is None and frames:
            break  # not published (yet): REST from here
        end_ms = _ms(month + pd.offsets.MonthBegin(1))
        if frame is not None:  # a month before the listing has no file: skipped
            stamps = frame["timestamp"]
            frames.append(frame.loc[(stamps >= _utc(since_ms)) & (stamps < _utc(min(end_ms, until_ms)))])
            since_ms = max(since_ms, end_ms)
    return frames, since_ms


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


def _update_candles(plan: _Plan, store: CandleStore, tf: Timeframe) -> DownloadResult:
    target_start, at_listing = plan.start_ms(tf.ms)
    closed_until = plan.now_ms - tf.ms + 1  # open times < this are closed at now_ms
    entry = store.entry(plan.symbol, tf.value)
    batches: list[pd.DataFrame] = []
    full_history: bool | None = None
    if entry is None:
        mode = "full"
        batches += plan.fetch(tf, target_start, closed_until)
        full_history = at_listing or _starts_after(pd.concat(batches or [_EMPTY]), target_start)
    else:
        mode = "forward"
        first_ms = _ms(entry.first)
        if not entry.is_full_history and first_ms > target_start:
            mode = "backfill+forward"
            back = pd.concat(plan.fetch(tf, target_start, first_ms) or [_EMPTY])
            full_history = at_listing or back.empty or _starts_after(back, target_start)
            batches.append(back)
        elif not entry.is_full_history and at_listing and first_ms <= target_start:
            full_history = True  # the stored series already starts at the listing date
        forward_from = _ms(entry.last) + tf.ms
        if forward_from < closed_until:
            batches.append(plan.client.fetch_ohlcv(plan.symbol, tf.value, forward_from, closed_until))
    return _store_batches(store, plan.symbol, tf, mode, batches, full_history, plan.now_ms)


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
    checked, warnings = validate_and_screen(pd.concat(frames, ignore_index=True), tf.value, now=_utc(now_ms))
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


def _update_funding(plan: _Plan, store: CandleStore) -> DownloadResult:
    symbol, now_ms = plan.symbol, plan.now_ms
    stored_events = store.read_funding(symbol)
    if stored_events.empty:
        mode, since = "full", plan.start_ms(60_000)[0]
    else:
        mode, since = "forward", _ms(stored_events["timestamp"].iloc[-1]) + 60_000
    batch = plan.client.fetch_funding_history(symbol, since, now_ms)
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
